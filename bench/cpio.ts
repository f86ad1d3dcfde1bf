/**
 * Benchmark: our cpio writer + compressor against `find . | sort | cpio -o -H newc | <compressor>`
 * on the same tree, for each compression and for none: median times, their ratio against the 1.1x
 * target, and sizes (ours must not be larger). Not a test: it prints numbers.
 *
 * Both sides are the same bytes on every run: the sample tree's mtimes are fixed, and cpio runs with
 * --reproducible (inodes renumbered, device numbers 0). Without that, the inode numbers the file
 * system hands out change each run, and xz's output of the same tree moved by +-0.15 %, more than
 * the size difference being measured.
 *
 *   node dist/bench/cpio.js [DIR] [--only xz,gzip] [--runs 3] [--keep]
 *
 * Without DIR it generates a sample tree (about 3000 files, 30 MB: text, binaries, symlinks);
 * --keep leaves it (and the archives) in place and prints where.
 */
import { spawn } from 'node:child_process';
import { lutimes, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMPRESSORS, buildInitramfs } from '../build/image/compress.js';
import { cpioStream } from '../build/image/cpio.js';
import { collectRootfs } from '../build/image/rootfs.js';
import { COMPRESSIONS, type Compression } from '../build/profile/types.js';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

const EPOCH = 1_700_000_000;

/** Deterministic pseudo-random numbers, so every run benchmarks the same tree. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function makeSampleTree(root: string): Promise<void> {
  const rnd = lcg(42);
  const words = Array.from({ length: 2000 }, (_, i) => `w${(i * 2654435761) >>> 20}${'abcdefgh'[i % 8]}`);
  const text = (bytes: number) => {
    const out: string[] = [];
    let n = 0;
    while (n < bytes) {
      const w = words[Math.floor(rnd() * words.length)]!;
      out.push(w);
      n += w.length + 1;
    }
    return out.join(rnd() < 0.1 ? '\n' : ' ');
  };
  // Half random, half repeated: roughly how compiled code compresses.
  const binary = (bytes: number) => {
    const b = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i += 4) b.writeUInt32LE(i % 8192 < 4096 ? (rnd() * 2 ** 32) >>> 0 : i & 0xffff, i);
    return b;
  };
  let total = 0;
  for (let d = 0; d < 150; d++) {
    const dir = join(root, `usr/lib/pkg${d % 30}/sub${d}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 20; f++) {
      const r = rnd();
      const size =
        r < 0.72
          ? 500 + Math.floor(rnd() * 6000)
          : r < 0.99
            ? 10_000 + Math.floor(rnd() * 20_000)
            : 200_000 + Math.floor(rnd() * 200_000);
      const file = join(dir, `f${f}${r < 0.5 ? '.txt' : '.so'}`);
      await writeFile(file, r < 0.5 ? text(size) : binary(size & ~3));
      total += size;
    }
  }
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'bin/busybox'), binary(1_000_000), { mode: 0o755 });
  for (let i = 0; i < 300; i++) await symlink('busybox', join(root, `bin/applet${i}`));
  for (const p of ['', ...(await readdir(root, { recursive: true }))]) await lutimes(join(root, p), EPOCH, EPOCH);
  process.stderr.write(`sample tree: ${root} (~${Math.round(total / 1e6)} MB)\n`);
}

/** Runs a shell pipeline (its output redirected by the script); resolves with its processes' CPU seconds. */
function sh(script: string, cwd: string): Promise<number> {
  return new Promise((res, rej) => {
    // `times` prints the shell's and then its children's user and system time.
    const c = spawn('bash', ['-o', 'pipefail', '-c', `${script}\ntimes`], {
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', rej);
    c.on('close', (code) => {
      if (code !== 0) return rej(new Error(`exit ${code}: ${script}`));
      const secs = [...out.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      res(secs.reduce((a, b) => a + b, 0));
    });
  });
}

/** Ours may take at most this much longer than find | cpio | compressor (issue 12). */
const TARGET = 1.1;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? (args.splice(onlyIdx, 2)[1] ?? '').split(',') : undefined;
  const compressions = COMPRESSIONS.filter((c) => !only || only.includes(c));
  const keep = args.includes('--keep');
  if (keep) args.splice(args.indexOf('--keep'), 1);
  const runsIdx = args.indexOf('--runs');
  const runs = runsIdx >= 0 ? Number(args.splice(runsIdx, 2)[1]) : 3;
  const work = await mkdtemp(join(tmpdir(), 'zos-bench-cpio-'));
  try {
    const tree = args[0] ? resolve(args[0]) : join(work, 'tree');
    if (!args[0]) await makeSampleTree(tree);

    // Same tree for both: no generated files, no device nodes. Walking the tree is part of "ours"
    // just as `find` is part of "theirs".
    const collect = () => collectRootfs([tree], [], []);
    let entries = await collect();
    const rows: string[][] = [
      ['compression', 'ours s', 'theirs s', 'ours/theirs', 'target', 'ours bytes', 'theirs bytes'],
    ];
    // Median of --runs runs each, ours and theirs alternating: the build machines are shared and noisy.
    type Run = () => Promise<unknown>;
    let cpuNote = '';
    const row = async (name: string, ours: Run, theirs: string, ourFile: string, theirFile: string) => {
      const t: number[][] = [[], []];
      const cpu: number[][] = [[], []];
      for (let i = 0; i < runs; i++) {
        const c0 = process.cpuUsage();
        t[0]!.push(await timed(ours));
        const c1 = process.cpuUsage(c0);
        cpu[0]!.push((c1.user + c1.system) / 1e6);
        let theirCpu = 0;
        t[1]!.push(await timed(async () => (theirCpu = await sh(theirs, tree))));
        cpu[1]!.push(theirCpu);
      }
      // Without a compressor all of ours runs in this process: CPU time compares the writers even
      // when a loaded machine makes wall times noisy.
      const [oc, tc] = cpu.map((xs) => median(xs).toFixed(3));
      if (name === 'none') cpuNote = `none, CPU seconds: ours ${oc}, find|sort|cpio ${tc}`;
      const [o, th] = t.map(median) as [number, number];
      const [ob, tb] = [(await stat(ourFile)).size, (await stat(theirFile)).size];
      const ok = o / th <= TARGET && ob <= tb;
      const verdict = `${ok ? 'ok' : 'MISSED'} <= ${TARGET}x`;
      rows.push([name, o.toFixed(3), th.toFixed(3), `${(o / th).toFixed(2)}x`, verdict, String(ob), String(tb)]);
      process.stderr.write(`${name} done\n`);
    };

    const ourRaw = join(work, 'ours.cpio');
    const theirRaw = join(work, 'theirs.cpio');
    await row(
      'none',
      async () => {
        entries = await collect();
        await pipeline(cpioStream(entries, { epoch: EPOCH }), createWriteStream(ourRaw));
      },
      `find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible > ${theirRaw}`,
      ourRaw,
      theirRaw,
    );

    for (const c of compressions as Compression[]) {
      const ours = join(work, `ours.${c}`);
      const theirs = join(work, `theirs.${c}`);
      const { tool, args: flags } = COMPRESSORS[c];
      const ourRun = async () =>
        buildInitramfs({ entries: await collect(), epoch: EPOCH, compression: c, outFile: ours });
      await row(
        c,
        ourRun,
        `find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | ${tool} ${flags.join(' ')} > ${theirs}`,
        ours,
        theirs,
      );
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
    if (cpuNote) console.log(cpuNote);
    console.log(`entries: ${entries.length}; tree: ${tree}`);
  } finally {
    if (keep) console.log(`kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
