/**
 * Build-speed benchmark: cold build, no-op rebuild and overlay-edit rebuild of a profile, each in a
 * private copy of the repository. Prints seconds and ratios to the cold build. Not a test.
 *
 *   node dist/bench/build.js [--profile qemu] [--cold]
 *
 * Without --cold the "cold" number is the first build against the shared cache (warm steps);
 * with --cold it uses an empty step cache (downloads are still shared: they are not build work).
 */
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

try {
  const first = await build('first');
  const noop = await build('no-op');
  // Unique, so an earlier run's initramfs is not in the shared cache.
  await appendFile(join(repo, 'rootfs-overlay/init'), `\n# bench edit ${Date.now()}\n`);
  const overlay = await build('overlay-edit');
  const row = (name: string, s: number) => console.log(`${name.padEnd(22)} ${s.toFixed(2).padStart(9)} s   ${(s / first).toFixed(4)} x ${cold ? 'cold' : 'first'}`);
  console.log(`profile ${profile}, ${cold ? 'empty step cache' : 'shared step cache'}`);
  row(cold ? 'cold build' : 'first build', first);
  row('no-op rebuild', noop);
  row('overlay-edit rebuild', overlay);
} finally {
  await rm(repo, { recursive: true, force: true });
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
}
