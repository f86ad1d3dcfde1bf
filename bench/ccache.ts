/**
 * ccache benchmark: how long the kernel takes to rebuild after one driver is toggled in a fragment,
 * with a warm ccache versus a cold one. In a private copy of the repository and a private cache
 * (downloads shared), `build linux` of the profile:
 *
 *   1. as it is, with an empty ccache            -> the cold time (it also fills ccache)
 *   2. with one driver toggled, with that ccache -> the warm time
 *   3. (--strict) toggled again (another driver), with an empty ccache -> a cold time of a toggled config
 *
 *   node dist/bench/ccache.js [--profile qemu] [--jobs 2] [--strict]
 *
 * Every build has a fresh work dir (the fingerprint changes), so this also shows that hits survive
 * a build directory that moved. Not a test.
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir } from '../build/paths.js';
import { seedSources } from '../build/util/repo-copy.js';
import { repoCopy, zosBuild } from '../test/helpers/cli.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const profile = opt('--profile', 'qemu');
const jobs = opt('--jobs', '2');
const strict = args.includes('--strict');
// Drivers toggled on in the profile's own fragment (they build on tinyconfig + the qemu fragment).
const TOGGLES = ['CONFIG_VIRTIO_CONSOLE=y', 'CONFIG_VIRTIO_BALLOON=y'];

const repo = await repoCopy();
const cacheDir = await mkdtemp(join(tmpdir(), 'zos-bench-ccache-'));
await seedSources(join(defaultCacheDir(), 'sources'), join(cacheDir, 'sources'));
const fragment = join(repo, `kernel/${profile}.config`);

const build = async (what: string, ccacheDir: string): Promise<{ s: number; stats: string }> => {
  const r = await zosBuild(
    ['build', 'linux', '--profile', profile, '--jobs', jobs, '--cache-dir', cacheDir, '--ccache-dir', ccacheDir],
    { repo },
  );
  if (r.code !== 0) throw new Error(`${what} build failed:\n${r.stdout}\n${r.stderr}`);
  const log = await readFile(join(repo, `out/logs/${profile}/recipe-linux.log`), 'utf8');
  return { s: r.ms / 1000, stats: /^# (ccache: .*)$/m.exec(log)?.[1] ?? 'no ccache statistics' };
};

try {
  const ccache = join(cacheDir, 'ccache-bench');
  const cold = await build('cold', ccache);
  await appendFile(fragment, `\n${TOGGLES[0]}\n`);
  const warm = await build('warm', ccache);
  const rows: Array<[string, { s: number; stats: string }]> = [
    ['cold ccache (profile as is)', cold],
    [`warm ccache (+${TOGGLES[0]})`, warm],
  ];
  if (strict) {
    await appendFile(fragment, `\n${TOGGLES[1]}\n`);
    rows.push([`cold ccache (+${TOGGLES[1]})`, await build('strict cold', join(cacheDir, 'ccache-empty'))]);
  }
  console.log(`kernel of profile ${profile}, make -j${jobs}, one driver toggled between builds`);
  for (const [name, r] of rows)
    console.log(
      `${name.padEnd(44)} ${r.s.toFixed(1).padStart(8)} s   ${(r.s / cold.s).toFixed(3)} x cold   ${r.stats}`,
    );
  console.log(`warm/cold ratio: ${(warm.s / cold.s).toFixed(3)} (${(cold.s / warm.s).toFixed(1)}x faster)`);
} finally {
  await rm(repo, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
}
