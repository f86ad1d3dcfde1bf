/**
 * Build-speed benchmark: cold build, no-op rebuild (the CLI alone and `npm run build-image` with its
 * compile check), overlay-edit and agent-edit rebuilds of a profile, in a private copy of the
 * repository. Prints seconds, ratios to the cold build and the targets of issue 12. Not a test.
 *
 *   node dist/bench/build.js [--profile qemu] [--cold]
 *
 * Without --cold the "cold" number is the first build against the shared cache (warm steps);
 * with --cold it uses an empty step cache (downloads are still shared: they are not build work).
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir } from '../build/paths.js';
import { seedSources } from '../build/util/repo-copy.js';
import { repoCopy, zosBuild } from '../test/helpers/cli.js';

const args = process.argv.slice(2);
const profile = args.includes('--profile') ? args[args.indexOf('--profile') + 1]! : 'qemu';
const cold = args.includes('--cold');

const repo = await repoCopy();
const extra: string[] = [];
let cacheDir: string | undefined;
if (cold) {
  cacheDir = await mkdtemp(join(tmpdir(), 'zos-bench-cache-'));
  await seedSources(join(defaultCacheDir(), 'sources'), join(cacheDir, 'sources'));
  extra.push('--cache-dir', cacheDir);
}
const build = async (what: string): Promise<number> => {
  const r = await zosBuild(['build', '--profile', profile, ...extra], { repo });
  if (r.code !== 0) throw new Error(`${what} build failed:\n${r.stdout}\n${r.stderr}`);
  return r.ms / 1000;
};

/** `npm run build-image` in the copy: what a developer types, tsc check included. */
const npmBuild = async (): Promise<number> => {
  const started = Date.now();
  const code = await new Promise<number | null>((res, rej) => {
    const args = ['run', '-s', 'build-image', '--', '--profile', profile, ...extra];
    const c = spawn('npm', args, { cwd: repo, stdio: 'ignore' });
    c.on('error', rej);
    c.on('close', res);
  });
  if (code !== 0) throw new Error(`npm run build-image failed (exit ${code})`);
  return (Date.now() - started) / 1000;
};

try {
  const first = await build('first');
  const noop = await build('no-op');
  await npmBuild(); // the copy's first run compiles (its stamp names the checkout's files)
  const npmNoop = await npmBuild();
  // Unique edits, so an earlier run's outputs are not in the shared cache.
  await appendFile(join(repo, 'rootfs-overlay/init'), `\n# bench edit ${Date.now()}\n`);
  const overlay = await build('overlay-edit');
  await appendFile(join(repo, 'agent/cmd/core0/main.go'), `\n// bench edit ${Date.now()}\n`);
  const agent = await build('agent-edit');
  const row = (name: string, s: number, target?: number) => {
    const vsFirst = `${(s / first).toFixed(4)} x ${cold ? 'cold' : 'first'}`;
    const goal = target === undefined ? '' : `   target <= ${target} s: ${s <= target ? 'ok' : 'MISSED'}`;
    console.log(`${name.padEnd(26)} ${s.toFixed(2).padStart(9)} s   ${vsFirst}${goal}`);
  };
  console.log(`profile ${profile}, ${cold ? 'empty step cache' : 'shared step cache'}`);
  row(cold ? 'cold build' : 'first build', first);
  row('no-op rebuild', noop);
  row('no-op npm run build-image', npmNoop, 1);
  row('overlay-edit rebuild', overlay, 3);
  row('agent-edit rebuild', agent, 30);
} finally {
  await rm(repo, { recursive: true, force: true });
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
}
