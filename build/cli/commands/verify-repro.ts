import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { defaultCacheDir, repoDir } from '../../paths.js';
import { compareDirs, formatDifference } from '../../release/compare.js';
import { REPORT_FILE } from '../../report/write.js';
import { ZosError } from '../../util/errors.js';
import { buildAbort } from '../../util/exec.js';
import { exists, rmrf } from '../../util/fs.js';
import { copyRepo, seedSources } from '../../util/repo-copy.js';
import { withCommonOptions } from '../options.js';
import { DEFAULT_PROFILE, type CommonArgs } from '../session.js';

interface VerifyReproArgs extends CommonArgs {
  workDir?: string;
  keep: boolean;
  vary: boolean;
  seedSources: boolean;
  against?: string;
}

/** The two builds differ in everything that must not matter: checkout path, cache, TZ, umask, time. */
export const BUILD_VARIANTS = [
  { label: 'A', tz: 'UTC', umask: '022' },
  { label: 'B', tz: 'Asia/Kathmandu', umask: '027' },
] as const;

function runBuild(repo: string, args: string[], env: Record<string, string>, umask: string): Promise<number | null> {
  return new Promise((res, rej) => {
    // umask is a shell builtin: set it, then exec node so signals reach the build directly.
    // A remote build cache would hand build B the outputs of an earlier build: never use one here.
    // Both builds are unsigned: signatures carry a signing time, so what can be reproduced is the bytes
    // under them (docs/secure-boot.md); a signing key in the environment is not handed to the builds.
    const dropped = (k: string) => k.startsWith('ZOS_REMOTE_CACHE') || k === 'ZOS_SIGN_KEY' || k === 'ZOS_SIGN_CERT';
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped(k)));
    const child = spawn(
      'sh',
      ['-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, join(repo, 'dist/build/cli/main.js'), ...args],
      {
        cwd: repo,
        env: { ...base, ...env },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    // A SIGTERM or SIGINT to verify-repro (CI's trap when the tests fail) stops the build it runs too,
    // instead of leaving it compiling a kernel with nobody waiting for it.
    const stop = () => child.kill('SIGTERM');
    buildAbort.signal.addEventListener('abort', stop, { once: true });
    child.on('error', rej);
    child.on('close', (code) => {
      buildAbort.signal.removeEventListener('abort', stop);
      res(code);
    });
  });
}

const command: CommandModule<object, VerifyReproArgs> = {
  command: 'verify-repro',
  describe:
    'build the profile twice from scratch (two checkouts, two empty caches, different TZ and umask) and compare the outputs',
  builder: (y) =>
    withCommonOptions(y)
      .option('work-dir', {
        type: 'string',
        describe: 'where the two checkouts, caches and outputs go (default: a new temp dir)',
      })
      .option('keep', { type: 'boolean', default: false, describe: 'keep the work dir even when the builds match' })
      .option('vary', {
        type: 'boolean',
        default: true,
        describe: 'build B with another TZ and umask (--no-vary: same as A)',
      })
      .option('against', {
        type: 'string',
        describe:
          'use this existing output dir (e.g. out/qemu from an earlier clean build) as build A and only run build B',
      })
      .option('seed-sources', {
        type: 'boolean',
        default: true,
        describe:
          'start both caches with the downloads of --cache-dir (sha256-checked; build outputs are never shared)',
      }) as never,
  async handler(argv) {
    const profile = argv.profile ?? DEFAULT_PROFILE;
    const work = argv.workDir ? resolve(argv.workDir) : await mkdtemp(join(tmpdir(), 'zos-repro-'));
    await mkdir(work, { recursive: true });
    const seedFrom = join(argv.cacheDir ? resolve(argv.cacheDir) : defaultCacheDir(), 'sources');
    const repos = [repoDir, join(work, 'checkout-b')];
    console.log(`verify-repro: profile ${profile}, work dir ${work}`);
    if (process.env.ZOS_SIGN_KEY || process.env.ZOS_SIGN_CERT)
      console.log('verify-repro: both builds are unsigned (ZOS_SIGN_KEY/ZOS_SIGN_CERT ignored; docs/secure-boot.md)');
    await copyRepo(repos[1]!);
    const outs: string[] = argv.against ? [resolve(argv.against)] : [];
    if (argv.against && !(await exists(join(outs[0]!, 'manifest.json')))) {
      throw new ZosError(
        `verify-repro --against ${argv.against}: no manifest.json there`,
        `Build it first: zos-build build --profile ${profile}`,
      );
    }
    for (const [i, v] of BUILD_VARIANTS.entries()) {
      if (argv.against && v.label === 'A') continue;
      const cache = join(work, `cache-${v.label}`);
      const out = join(work, `out-${v.label}`);
      if (argv.seedSources) await seedSources(seedFrom, join(cache, 'sources'));
      const variant = argv.vary ? v : BUILD_VARIANTS[0];
      const args = ['build', '--profile', profile, '--out', out, '--cache-dir', cache, '--jobs', String(argv.jobs)];
      if (argv.offline) args.push('--offline');
      if (argv.verbose) args.push('--verbose');
      for (const m of argv.mirror) args.push('--mirror', m);
      if (argv.debianMirror) args.push('--debian-mirror', argv.debianMirror);
      console.log(`\n== build ${v.label}: ${repos[i]} TZ=${variant.tz} umask ${variant.umask}`);
      const code = await runBuild(repos[i]!, args, { TZ: variant.tz, ZOS_CACHE_DIR: cache }, variant.umask);
      if (code !== 0)
        throw new ZosError(`verify-repro: build ${v.label} failed (exit ${code}); its files are in ${work}`);
      outs.push(join(out, profile));
    }
    console.log(`\n== comparing ${outs[0]} and ${outs[1]}`);
    // report.html records when each step ran: a log of the build, not a build output.
    const diffs = await compareDirs(outs[0]!, outs[1]!, { workDir: join(work, 'compare'), ignore: [REPORT_FILE] });
    if (diffs.length) {
      for (const d of diffs) console.log(`DIFFERS ${formatDifference(d)}`);
      throw new ZosError(
        `verify-repro: ${diffs.length} artifact(s) of profile ${profile} differ between the two builds; first: ${formatDifference(diffs[0]!)}`,
        `Both trees are kept in ${work} (out-A/, out-B/) for inspection, e.g. with diffoscope.`,
      );
    }
    console.log(`reproducible: every file of ${profile} is bit-for-bit identical`);
    if (!argv.keep) await rmrf(work);
  },
};
export default command;
