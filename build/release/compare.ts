import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZosError } from '../util/errors.js';
import { sha256File } from '../util/hash.js';
import { listFiles } from '../util/fs.js';

/**
 * Compares two builds' output trees and explains the first difference inside each differing file:
 * - compressed or plain newc cpio (the initramfs): the first member whose header or content differs;
 * - ISO 9660 images: extracted with xorriso, then compared as trees (recursively: an initramfs inside
 *   an ISO is explained member by member too);
 * - FAT file systems and disk images with an MBR/GPT FAT partition: extracted with mtools, same;
 * - PE/EFI binaries (UKIs, iPXE): the first differing section (.linux, .initrd, .cmdline...);
 * - anything else: the first differing byte offset.
 */

export interface Difference {
  /** Where: the artifact, then the members inside it, outermost first, e.g. [`zos.iso`, `boot/initramfs.cpio.xz`, `init`]. */
  path: string[];
  detail: string;
}

export interface CompareOptions {
  /** How many containers deep to look (artifact → member → member...); default 3. */
  depth?: number;
  /** Scratch space for extraction; a temp dir by default (removed afterwards). */
  workDir?: string;
  /** Top-level files not compared (the build report: it records when steps ran). */
  ignore?: readonly string[];
}

export function formatDifference(d: Difference): string {
  return `${d.path.join(' → ')}: ${d.detail}`;
}

// ---------- format detection

export type Format = 'xz' | 'zstd' | 'gzip' | 'lz4' | 'cpio' | 'iso' | 'fat' | 'disk' | 'pe' | 'other';

const DECOMPRESSORS: Record<'xz' | 'zstd' | 'gzip' | 'lz4', { tool: string; args: string[] }> = {
  xz: { tool: 'xz', args: ['-dc'] },
  zstd: { tool: 'zstd', args: ['-dc', '-q'] },
  gzip: { tool: 'gzip', args: ['-dc'] },
  lz4: { tool: 'lz4', args: ['-dc'] },
};

async function readHead(file: string, length: number, position = 0): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function isFatBootSector(b: Buffer): boolean {
  if (b.length < 512 || b[510] !== 0x55 || b[511] !== 0xaa) return false;
  if (b[0] !== 0xeb && b[0] !== 0xe9) return false;
  const fs16 = b.subarray(0x36, 0x39).toString('latin1');
  const fs32 = b.subarray(0x52, 0x55).toString('latin1');
  return fs16 === 'FAT' || fs32 === 'FAT';
}

export function sniff(head: Buffer): Format {
  const starts = (...bytes: number[]) => bytes.every((v, i) => head[i] === v);
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x02, 0x21, 0x4c, 0x18) || starts(0x04, 0x22, 0x4d, 0x18)) return 'lz4';
  if (head.subarray(0, 6).toString('latin1') === '070701' || head.subarray(0, 6).toString('latin1') === '070702')
    return 'cpio';
  if (head.length >= 0x8006 && head.subarray(0x8001, 0x8006).toString('latin1') === 'CD001') return 'iso';
  if (isFatBootSector(head)) return 'fat';
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) return 'disk';
  if (starts(0x4d, 0x5a) && head.length >= 0x40) {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 4 <= head.length && head.subarray(pe, pe + 4).toString('latin1') === 'PE\0\0') return 'pe';
  }
  return 'other';
}

// ---------- running tools

function run(tool: string, args: readonly string[], opts: { stdout?: 'buffer' } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      if (opts.stdout === 'buffer') out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new ZosError(`${tool} is not installed; it is needed to look inside the differing file`)
          : e,
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new ZosError(`${tool} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err.trim()}`));
    });
  });
}

export async function decompress(file: string, format: keyof typeof DECOMPRESSORS): Promise<Buffer> {
  const d = DECOMPRESSORS[format];
  return run(d.tool, [...d.args, file], { stdout: 'buffer' });
}

// ---------- newc cpio

export interface CpioMember {
  name: string;
  /** Header fields as numbers: ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, check. */
  header: Record<(typeof NEWC_FIELDS)[number], number>;
  data: Buffer;
  /** Byte offset of the header in the (decompressed) archive. */
  offset: number;
}

const NEWC_FIELDS = [
  'ino',
  'mode',
  'uid',
  'gid',
  'nlink',
  'mtime',
  'filesize',
  'devmajor',
  'devminor',
  'rdevmajor',
  'rdevminor',
  'namesize',
  'check',
] as const;
const align4 = (n: number) => (n + 3) & ~3;

/**
 * Members of one or more concatenated newc archives (the kernel accepts several, separated by zero
 * padding). TRAILER!!! entries are kept, so two archives differing only in how they are split
 * still differ.
 */
export function parseNewc(buf: Buffer): CpioMember[] {
  const members: CpioMember[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) {
      pos++;
      continue;
    }
    const magic = buf.subarray(pos, pos + 6).toString('latin1');
    if (magic !== '070701' && magic !== '070702')
      throw new ZosError(`cpio: no newc header at byte ${pos} (found ${JSON.stringify(magic)})`);
    if (pos + 110 > buf.length) throw new ZosError(`cpio: truncated header at byte ${pos}`);
    const header = {} as CpioMember['header'];
    NEWC_FIELDS.forEach((f, i) => {
      const hex = buf.subarray(pos + 6 + i * 8, pos + 14 + i * 8).toString('latin1');
      if (!/^[0-9a-fA-F]{8}$/.test(hex))
        throw new ZosError(`cpio: field ${f} of the header at byte ${pos} is not hex: ${JSON.stringify(hex)}`);
      header[f] = parseInt(hex, 16);
    });
    const nameStart = pos + 110;
    const name = buf.subarray(nameStart, nameStart + header.namesize - 1).toString('utf8');
    const dataStart = align4(nameStart + header.namesize);
    const dataEnd = dataStart + header.filesize;
    if (dataEnd > buf.length)
      throw new ZosError(`cpio: member ${JSON.stringify(name)} at byte ${pos} runs past the end of the archive`);
    members.push({ name, header, data: buf.subarray(dataStart, dataEnd), offset: pos });
    pos = align4(dataEnd);
  }
  return members;
}

function firstByteDiff(a: Buffer, b: Buffer): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : n;
}

function octal(n: number): string {
  return `0${n.toString(8)}`;
}

/** The first member of two newc archives whose name, header or content differs; undefined if equal. */
export function compareCpioBuffers(a: Buffer, b: Buffer): { member: string; detail: string } | undefined {
  const ma = parseNewc(a);
  const mb = parseNewc(b);
  const n = Math.min(ma.length, mb.length);
  for (let i = 0; i < n; i++) {
    const x = ma[i]!;
    const y = mb[i]!;
    if (x.name !== y.name) {
      const inB = mb.some((m) => m.name === x.name);
      return {
        member: inB ? y.name : x.name,
        detail: inB
          ? `member #${i + 1} is ${JSON.stringify(x.name)} in the first archive but ${JSON.stringify(y.name)} in the second (present only in the second, or order differs)`
          : `member #${i + 1} ${JSON.stringify(x.name)} is only in the first archive (the second has ${JSON.stringify(y.name)} there)`,
      };
    }
    for (const f of NEWC_FIELDS) {
      if (f === 'namesize') continue;
      if (x.header[f] !== y.header[f]) {
        const show = f === 'mode' ? octal : (v: number) => String(v);
        return { member: x.name, detail: `header field ${f} differs: ${show(x.header[f])} vs ${show(y.header[f])}` };
      }
    }
    const at = firstByteDiff(x.data, y.data);
    if (at !== undefined)
      return { member: x.name, detail: `content differs at byte ${at} (sizes ${x.data.length} and ${y.data.length})` };
  }
  if (ma.length !== mb.length) {
    const extra = ma.length > mb.length ? ma[n]! : mb[n]!;
    return {
      member: extra.name,
      detail: `only in the ${ma.length > mb.length ? 'first' : 'second'} archive (${ma.length} vs ${mb.length} members)`,
    };
  }
  return undefined;
}

// ---------- PE sections

interface PeSection {
  name: string;
  raw: Buffer;
}

function peSections(buf: Buffer): PeSection[] | undefined {
  try {
    const pe = buf.readUInt32LE(0x3c);
    if (buf.subarray(pe, pe + 4).toString('latin1') !== 'PE\0\0') return undefined;
    const count = buf.readUInt16LE(pe + 6);
    const optSize = buf.readUInt16LE(pe + 20);
    const table = pe + 24 + optSize;
    const out: PeSection[] = [{ name: '(headers)', raw: buf.subarray(0, table + count * 40) }];
    for (let i = 0; i < count; i++) {
      const s = table + i * 40;
      const name = buf
        .subarray(s, s + 8)
        .toString('latin1')
        .replace(/\0+$/, '');
      const size = buf.readUInt32LE(s + 16);
      const ptr = buf.readUInt32LE(s + 20);
      out.push({ name, raw: buf.subarray(ptr, ptr + size) });
    }
    return out;
  } catch {
    return undefined;
  }
}

// ---------- disks

/** Byte offsets of the partitions of a disk image (MBR, or GPT behind a protective MBR), from its first sectors. */
export function partitionOffsets(head: Buffer): number[] {
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return [];
  const entries: Array<{ type: number; lba: number }> = [];
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    entries.push({ type: head[e + 4]!, lba: head.readUInt32LE(e + 8) });
  }
  const offsets: number[] = [];
  if (
    entries.some((e) => e.type === 0xee) &&
    head.length >= 1024 &&
    head.subarray(512, 520).toString('latin1') === 'EFI PART'
  ) {
    const tableLba = Number(head.readBigUInt64LE(512 + 72));
    const count = head.readUInt32LE(512 + 80);
    const size = head.readUInt32LE(512 + 84);
    for (let i = 0; i < Math.min(count, 128); i++) {
      const e = tableLba * 512 + i * size;
      if (size < 40 || e + 40 > head.length) break;
      if (head.subarray(e, e + 16).every((v) => v === 0)) continue;
      offsets.push(Number(head.readBigUInt64LE(e + 32)) * 512);
    }
  } else {
    for (const e of entries) if (e.type !== 0 && e.lba > 0) offsets.push(e.lba * 512);
  }
  return offsets;
}

/** Byte offset of the first FAT file system in a whole disk image held in memory, or undefined. */
export function fatPartitionOffset(image: Buffer): number | undefined {
  return partitionOffsets(image).find(
    (off) => off + 512 <= image.length && isFatBootSector(image.subarray(off, off + 512)),
  );
}

/** The same for a disk image on disk: reads the partition table, then each candidate's boot sector. */
async function fatPartitionOffsetOf(file: string): Promise<number | undefined> {
  for (const off of partitionOffsets(await readHead(file, 34 * 512))) {
    if (isFatBootSector(await readHead(file, 512, off))) return off;
  }
  return undefined;
}

async function extractFat(file: string, offset: number, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const listing = (
    await run('mdir', ['-b', '-i', `${file}@@${offset}`, '::/'], { stdout: 'buffer' }).catch(() => Buffer.alloc(0))
  ).toString();
  if (listing.trim() === '') return;
  await run('mcopy', ['-s', '-n', '-m', '-p', '-i', `${file}@@${offset}`, '::/*', dest]);
}

async function extractIso(file: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await run('xorriso', ['-osirrox', 'on', '-indev', file, '-extract', '/', dest]);
}

// ---------- files and trees

let scratchSeq = 0;

/** Why two files differ, looking inside containers; undefined if their bytes are equal. */
export async function explainFile(
  a: string,
  b: string,
  name: string,
  opts: CompareOptions & { workDir: string },
): Promise<Difference | undefined> {
  const [ha, hb] = await Promise.all([sha256File(a), sha256File(b)]);
  if (ha === hb) return undefined;
  const depth = opts.depth ?? 3;
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  const [heada, headb] = await Promise.all([readHead(a, 0x8010), readHead(b, 0x8010)]);
  const fa = sniff(heada);
  const fb = sniff(headb);
  const bytes = async (): Promise<Difference> => {
    const at = firstByteDiff(await readFile(a), await readFile(b));
    return { path: [name], detail: `content differs at byte ${at} (sizes ${sa.size} and ${sb.size})` };
  };
  if (fa !== fb) return { path: [name], detail: `formats differ: ${fa} vs ${fb} (sizes ${sa.size} and ${sb.size})` };
  if (depth <= 0) return bytes();
  try {
    if (fa === 'xz' || fa === 'zstd' || fa === 'gzip' || fa === 'lz4' || fa === 'cpio') {
      const [da, db] =
        fa === 'cpio'
          ? [await readFile(a), await readFile(b)]
          : await Promise.all([decompress(a, fa), decompress(b, fa)]);
      if (sniff(da.subarray(0, 8)) === 'cpio' && sniff(db.subarray(0, 8)) === 'cpio') {
        const d = compareCpioBuffers(da, db);
        if (d) return { path: [name, d.member], detail: d.detail };
        return {
          path: [name],
          detail: `the ${fa === 'cpio' ? 'archives' : `decompressed archives are equal member by member; the ${fa} streams`} differ (compressor version or settings)`,
        };
      }
      const at = firstByteDiff(da, db);
      if (at === undefined)
        return {
          path: [name],
          detail: `the decompressed contents are equal; the ${fa} streams differ (compressor version or settings)`,
        };
      return {
        path: [name],
        detail: `decompressed (${fa}) content differs at byte ${at} (sizes ${da.length} and ${db.length})`,
      };
    }
    if (fa === 'pe') {
      const [ba, bb] = [await readFile(a), await readFile(b)];
      const pa = peSections(ba);
      const pb = peSections(bb);
      if (pa && pb) {
        const names = (s: PeSection[]) => s.map((x) => x.name).join(',');
        if (names(pa) !== names(pb))
          return { path: [name], detail: `PE sections differ: ${names(pa)} vs ${names(pb)}` };
        for (let i = 0; i < pa.length; i++) {
          const at = firstByteDiff(pa[i]!.raw, pb[i]!.raw);
          if (at === undefined) continue;
          const section = pa[i]!.name;
          // A UKI's .initrd is the initramfs: explain it member by member.
          if (depth > 1 && section === '.initrd') {
            const ta = join(opts.workDir, `s${++scratchSeq}`);
            await mkdir(ta, { recursive: true });
            await writeFile(join(ta, 'a'), pa[i]!.raw);
            await writeFile(join(ta, 'b'), pb[i]!.raw);
            const inner = await explainFile(join(ta, 'a'), join(ta, 'b'), section, { ...opts, depth: depth - 1 });
            await rm(ta, { recursive: true, force: true });
            if (inner) return { path: [name, ...inner.path], detail: inner.detail };
          }
          return { path: [name, section], detail: `PE section content differs at byte ${at} of the section` };
        }
      }
      return bytes();
    }
    if (fa === 'iso' || fa === 'fat' || fa === 'disk') {
      let offA = 0;
      let offB = 0;
      if (fa === 'disk') {
        const [oa, ob] = await Promise.all([fatPartitionOffsetOf(a), fatPartitionOffsetOf(b)]);
        if (oa === undefined || ob === undefined) return bytes();
        if (oa !== ob)
          return { path: [name], detail: `partition layout differs: FAT partition at byte ${oa} vs ${ob}` };
        offA = oa;
        offB = ob;
      }
      const ta = join(opts.workDir, `x${++scratchSeq}`);
      const tb = join(opts.workDir, `x${++scratchSeq}`);
      try {
        if (fa === 'iso') await Promise.all([extractIso(a, ta), extractIso(b, tb)]);
        else await Promise.all([extractFat(a, offA, ta), extractFat(b, offB, tb)]);
        const inner = await compareDirs(ta, tb, { ...opts, ignore: [], depth: depth - 1 });
        if (inner.length) return { path: [name, ...inner[0]!.path], detail: inner[0]!.detail };
        const at = firstByteDiff(await readFile(a), await readFile(b));
        return {
          path: [name],
          detail: `the files inside are equal; the ${fa === 'iso' ? 'ISO 9660' : 'FAT'} metadata differs at byte ${at} (timestamps, serial, order?)`,
        };
      } finally {
        await Promise.all([rm(ta, { recursive: true, force: true }), rm(tb, { recursive: true, force: true })]);
      }
    }
  } catch (err) {
    const d = await bytes();
    return {
      path: d.path,
      detail: `${d.detail} (could not look inside: ${err instanceof Error ? err.message : String(err)})`,
    };
  }
  return bytes();
}

/**
 * Compares two trees file by file (sha256) and explains each differing file. An empty result
 * means the trees hold the same files with the same bytes.
 */
export async function compareDirs(a: string, b: string, opts: CompareOptions = {}): Promise<Difference[]> {
  const ownWork = opts.workDir === undefined;
  const workDir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'zos-compare-')));
  try {
    const ignored = new Set(opts.ignore ?? []);
    const kept = async (dir: string) => (await listFiles(dir)).filter((f) => !ignored.has(f));
    const [la, lb] = await Promise.all([kept(a), kept(b)]);
    const setB = new Set(lb);
    const setA = new Set(la);
    const diffs: Difference[] = [];
    for (const f of [...new Set([...la, ...lb])].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))) {
      if (!setB.has(f)) diffs.push({ path: [f], detail: `only in the first tree (${a})` });
      else if (!setA.has(f)) diffs.push({ path: [f], detail: `only in the second tree (${b})` });
      else {
        const d = await explainFile(join(a, f), join(b, f), f, { ...opts, workDir });
        if (d) diffs.push(d);
      }
    }
    return diffs;
  } finally {
    if (ownWork) await rm(workDir, { recursive: true, force: true });
  }
}
