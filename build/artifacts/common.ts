import { createHash } from 'node:crypto';
import {
  chmod,
  copyFile,
  mkdir,
  open,
  readdir,
  rm,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { StepLog } from '../util/exec.js';
import { ZosError } from '../util/errors.js';
import type { ArtifactInput } from './types.js';

/** Environment for every image tool: timestamps from the epoch, no locale or timezone influence. */
export function reproEnv(epoch: number): Record<string, string> {
  return { SOURCE_DATE_EPOCH: String(epoch), TZ: 'UTC', LC_ALL: 'C', MTOOLS_SKIP_CHECK: '1' };
}

/**
 * Identifiers inside images (FAT serials, GPT GUIDs, ISO volume ids) are derived from the version,
 * the epoch and a purpose string: fixed for the same inputs, different between releases.
 */
export function stableBytes(input: Pick<ArtifactInput, 'version' | 'epoch'>, purpose: string, n: number): Buffer {
  return createHash('sha256').update(`zos-build:${input.version}:${input.epoch}:${purpose}`).digest().subarray(0, n);
}

/** A random-looking but stable RFC 4122 (version 4 layout) GUID string. */
export function stableGuid(input: Pick<ArtifactInput, 'version' | 'epoch'>, purpose: string): string {
  const b = Buffer.from(stableBytes(input, purpose, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

/** 8 hex digits, for `mformat -N` / `mkfs.vfat -i`. */
export function stableSerial(input: Pick<ArtifactInput, 'version' | 'epoch'>, purpose: string): string {
  return stableBytes(input, purpose, 4).toString('hex').toUpperCase();
}

/** Copies a file and stamps it with the epoch (tools that read mtimes then write fixed dates). */
export async function copyStamped(src: string, dest: string, epoch: number, mode = 0o644): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(src, dest);
  await chmod(dest, mode);
  await utimes(dest, epoch, epoch);
}

export async function writeStamped(dest: string, data: string | Buffer, epoch: number, mode = 0o644): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await writeFile(dest, data);
  await chmod(dest, mode);
  await utimes(dest, epoch, epoch);
}

/** A new, sparse, all-zero image file of `size` bytes at `path` (replacing any file there). */
export async function emptyImage(path: string, size: number): Promise<void> {
  await rm(path, { force: true });
  await mkdir(dirname(path), { recursive: true });
  await (await open(path, 'w')).close();
  await truncate(path, size);
}

/** Extension of a compressed cpio, e.g. `cpio.xz` for initramfs.cpio.xz (kept so loaders and humans can tell). */
export function initramfsName(initramfs: string): string {
  const m = /\.cpio(\.[a-z0-9]+)?$/.exec(basename(initramfs));
  return `initramfs${m ? m[0] : '.cpio'}`;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

export const MiB = 1024 * 1024;

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export interface FatFile {
  /** Absolute path on the host, or the file's content. */
  src: string | { content: string | Buffer };
  /** Path inside the FAT, with `/` separators, e.g. `EFI/BOOT/BOOTX64.EFI`. */
  dest: string;
}

export interface FatSpec {
  /** The FAT image file, or the disk image that holds it at `offset`. */
  image: string;
  label: string;
  /** 8 hex digits. */
  serial: string;
  files: FatFile[];
  /** Free space kept besides the files (room for edits and syslinux). */
  slackBytes?: number;
  /** Partition start in sectors, written to the boot sector's hidden-sectors field. */
  hiddenSectors?: number;
  epoch: number;
  workDir: string;
  log: StepLog;
}

/** A FAT ready to be written: its files staged under their names on it, and its size. */
export interface FatPlan {
  spec: FatSpec;
  size: number;
  /** Destination directory on the FAT -> staged paths, in sorted order. */
  byDir: Map<string, string[]>;
}

/**
 * Stages the files under their names on the FAT (symbolic links to the sources, one folder per
 * destination directory: one mcopy per directory, no copy of the kernel or initramfs) and sizes it:
 * files + slack, rounded to 1 MiB.
 */
export async function planFat(spec: FatSpec): Promise<FatPlan> {
  const stage = join(spec.workDir, `fat-stage-${basename(spec.image)}`);
  await rm(stage, { recursive: true, force: true });
  const files = [...spec.files].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  let total = 0;
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const dir = dirname(f.dest) === '.' ? '' : dirname(f.dest);
    if (!byDir.has(dir)) byDir.set(dir, []);
    const path = join(stage, String(byDir.size - 1), basename(f.dest));
    await mkdir(dirname(path), { recursive: true });
    if (typeof f.src === 'string') await symlink(resolve(f.src), path);
    else await writeFile(path, f.src.content);
    total += alignUp(await fileSize(path), 4096) + 4096;
    byDir.get(dir)!.push(path);
  }
  const size = alignUp(total + (spec.slackBytes ?? 4 * MiB) + 2 * MiB, MiB);
  if (size > 4096 * MiB) throw new ZosError(`FAT image ${spec.image} would be ${size} bytes: too large`);
  return { spec, size, byDir };
}

/**
 * Writes a planned FAT with mtools only (no root, no mounts): into its own file, or into an existing
 * disk image at byte `offset` (mtools' `image@@offset`), so a disk's partition is written once, in
 * place. FAT12/16/32 is chosen by mformat from the size. Directories and files are added in sorted
 * order and every date comes from the epoch (mtools reads SOURCE_DATE_EPOCH), so the bytes are the
 * same on every run.
 */
export async function writeFat(plan: FatPlan, offset?: number): Promise<void> {
  const { spec, size, byDir } = plan;
  const target = offset === undefined ? spec.image : `${spec.image}@@${offset}`;
  if (offset === undefined) await emptyImage(spec.image, size);
  const env = reproEnv(spec.epoch);
  // -T total sectors, -h/-s geometry consistent with the size, -H hidden sectors (partition offset).
  // mformat chooses FAT12/16 for small sizes; FAT32 (-F) from 260 MiB up, where FAT16 clusters get large.
  const args = ['-i', target, '-T', String(size / 512), '-h', '64', '-s', '32', '-N', spec.serial, '-v', spec.label];
  if (spec.hiddenSectors) args.push('-H', String(spec.hiddenSectors));
  if (size >= 260 * MiB) args.push('-F');
  args.push('::');
  await spec.log.run('mformat', args, { env });
  const dirs = new Set<string>();
  for (const dir of byDir.keys()) {
    const parts = dir ? dir.split('/') : [];
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  // Parents before children; each directory's files in sorted order: the same bytes on every run.
  if (dirs.size) await spec.log.run('mmd', ['-i', target, ...[...dirs].sort().map((d) => `::/${d}`)], { env });
  for (const [dir, paths] of byDir) await spec.log.run('mcopy', ['-i', target, ...paths, `::/${dir}`], { env });
}

/** A FAT image file holding `spec.files` (see planFat and writeFat). Returns its size. */
export async function makeFat(spec: FatSpec): Promise<number> {
  const plan = await planFat(spec);
  await writeFat(plan);
  return plan.size;
}

/** Stamps every file and directory under `dir` (and `dir` itself) with the epoch. */
export async function stampTree(dir: string, epoch: number): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await stampTree(p, epoch);
    else await utimes(p, epoch, epoch);
  }
  await utimes(dir, epoch, epoch);
}

/**
 * Sets a PE image's COFF TimeDateStamp (objcopy writes the current time there) and recomputes the
 * optional header's CheckSum, so the file depends on its inputs only.
 */
export async function fixPeTimestamp(path: string, timestamp: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(size);
    await fh.read(buf, 0, size, 0);
    const pe = buf.readUInt32LE(0x3c);
    if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new ZosError(`${path} is not a PE image`);
    buf.writeUInt32LE(timestamp >>> 0, pe + 8);
    const sumOff = pe + 24 + 64;
    buf.writeUInt32LE(0, sumOff);
    let sum = 0;
    for (let i = 0; i + 1 < size; i += 2) {
      sum += buf.readUInt16LE(i);
      sum = (sum & 0xffff) + (sum >>> 16);
    }
    if (size % 2) {
      sum += buf[size - 1]!;
      sum = (sum & 0xffff) + (sum >>> 16);
    }
    sum = ((sum & 0xffff) + (sum >>> 16)) & 0xffff;
    buf.writeUInt32LE((sum + size) >>> 0, sumOff);
    await fh.write(buf, pe, 24 + 64 + 4, pe);
  } finally {
    await fh.close();
  }
}
