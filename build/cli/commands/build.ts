import type { CommandModule } from 'yargs';
import { RemoteStepCache } from '../../cache/remote.js';
import { closure } from '../../graph/graph.js';
import { bootCommandLine } from '../../artifacts/index.js';
import { artifactSteps } from '../../plan/artifact-steps.js';
import { planBuild } from '../../plan/plan.js';
import { outputFingerprint, publish, readManifest } from '../../publish/out-dir.js';
import { recipeStepId } from '../../recipe/step.js';
import { runSteps } from '../../scheduler/run.js';
import { ZosError } from '../../util/errors.js';
import { acquireLock } from '../../util/lock.js';
import { shareCache } from '../../cache/cache-lock.js';
import { sweepWorkDirs } from '../../scheduler/work-dir.js';
import { writeFileAtomic } from '../../util/fs.js';
import { writeReport } from '../../report/write.js';
import { compilerWrappersFor } from '../../compile/options.js';
import { loadEfiSigner } from '../../sign/efi-signer.js';
import { withCommonOptions, withCompileOptions, withSigningOptions, type SigningArgs } from '../options.js';
import { fingerprints, openSession, type CommonArgs, type CompileArgs } from '../session.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

interface BuildArgs extends CommonArgs, CompileArgs, SigningArgs {
  recipes: string[];
}

const command: CommandModule<object, BuildArgs> = {
  command: 'build [recipes..]',
  describe: 'build the image of a profile into <out>/<profile>/ (or only the named recipes)',
  builder: (y) =>
    withSigningOptions(withCompileOptions(withCommonOptions(y))).positional('recipes', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'recipes to build (default: the whole image)',
    }) as never,
  async handler(argv) {
    const started = Date.now();
    const s = await openSession(argv);
    // Before fingerprints: a signed build's artifact steps carry the certificate's hash.
    const signer = await loadEfiSigner({ key: argv.signKey, cert: argv.signCert });
    if (signer) {
      s.plan = planBuild(s.env, s.recipes, (env, roles) => artifactSteps(env, roles, { ...s.artifactOptions, signer }));
      console.log(`Secure Boot: signing EFI binaries for ${signer.subject}`);
    }
    for (const r of argv.recipes) {
      if (!s.plan.recipes.has(r)) {
        throw new ZosError(
          `build ${r}: no recipe "${r}" in profile ${s.profile.name}`,
          `Recipes of this profile: ${[...s.plan.recipes.keys()].sort().join(', ')}`,
        );
      }
    }
    const wholeImage = argv.recipes.length === 0;
    const fps = await fingerprints(s);
    if (wholeImage) {
      const current = await readManifest(s.outDir);
      if (current?.fingerprint === outputFingerprint(s.plan, fps, s.identity.commit)) {
        console.log(`${s.outDir} is up to date (zos ${s.identity.version}, profile ${s.profile.name})`);
        return;
      }
    }
    // Other builds may use the cache at the same time (each step output has its own lock).
    const unlockCache = await shareCache(s.cacheDir);
    try {
      const unlockOut = await acquireLock(join(s.outRoot, `.${s.profile.name}.lock`), 'output directory');
      try {
        // Leftovers of killed builds and fetches; only those whose owner is provably gone.
        await Promise.all([s.steps.sweepTemps(), s.env.sources.sweepTemps(), sweepWorkDirs(join(s.cacheDir, 'work'))]);
        s.env.compilers = await compilerWrappersFor(argv, s.cacheDir);
        if (s.env.compilers && argv.verbose) console.log(`compilers: ${s.env.compilers.describe()}`);
        await mkdir(join(s.cacheDir, 'work'), { recursive: true });
        const targets = wholeImage ? s.plan.finals : argv.recipes.map(recipeStepId);
        const needed = closure(s.plan.graph, targets);
        const result = await runSteps({
          graph: s.plan.graph,
          fingerprints: fps,
          needed,
          store: s.steps,
          logDir: s.logDir,
          workRoot: join(s.cacheDir, 'work'),
          jobs: argv.jobs,
          verbose: argv.verbose,
          remote: argv.remoteCache
            ? new RemoteStepCache({
                url: argv.remoteCache,
                readOnly: argv.remoteCacheReadOnly,
                tmpDir: join(s.cacheDir, 'work'),
                // Warnings (corrupt entries, server down) always show; hits and misses with --verbose.
                log: (line) => (argv.verbose || line.includes('warning')) && console.error(line),
              })
            : undefined,
        });
        const built = [...result.outcomes].filter(([, o]) => o !== 'cached').map(([id]) => id);
        // What ran, for scripts and tests that check a rebuild did only what it should.
        await writeFileAtomic(
          join(s.logDir, 'last-build.json'),
          `${JSON.stringify({ outcomes: Object.fromEntries(result.outcomes) }, null, 2)}\n`,
        );
        if (wholeImage) {
          const manifest = await publish({
            dir: s.outDir,
            profile: s.profile,
            plan: s.plan,
            identity: s.identity,
            fingerprints: fps,
            outputs: result.outputs,
            cmdline: bootCommandLine(s.profile),
            secureBoot: signer && { certSha256: signer.certSha256, subject: signer.subject },
            extras: (dir, m) =>
              writeReport(dir, m, {
                profile: s.profile,
                graph: s.plan.graph,
                timings: result.timings,
                outputs: result.outputs,
                started,
                logDir: s.logDir,
              }),
          });
          console.log(
            `zos ${manifest.version} (${s.profile.name}) -> ${s.outDir} (build report: ${join(s.outDir, 'report.html')})`,
          );
          for (const a of manifest.artifacts)
            console.log(`  ${a.file.padEnd(28)} ${String(a.size).padStart(10)}  ${a.sha256.slice(0, 16)}`);
        }
        console.log(
          `built: ${built.length ? built.join(', ') : 'nothing'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
      } finally {
        await unlockOut();
      }
    } finally {
      await unlockCache();
    }
  },
};
export default command;
