import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Compression } from '../profile/types.js';
import { tempSibling } from '../util/fs.js';
import { buildInitramfs } from './compress.js';
import type { CpioEntry } from './cpio.js';

/**
 * The initramfs is a concatenation of compressed newc archives, one per component: the kernel unpacks
 * them in order into the same root, a later archive's file replacing an earlier one's
 * (Documentation/driver-api/early-userspace/buffer-format.rst; early-microcode images work the same
 * way). Each recipe's archive is built once and cached with it, so an edit of the overlay or of one
 * recipe recompresses only that piece, and the report reads each component's compressed share off
 * the image instead of estimating it.
 *
 * The unpacked tree equals the one collectRootfs merges: files and symlinks follow the same "last
 * layer wins" rule, and the last archive restates every directory with its merged mode (see
 * finalSegmentEntries), so a directory's mode does not depend on which archive created it first.
 */

/** A piece of the image in the order the kernel unpacks it. */
export interface Segment {
  /** Who put its files there: a recipe, rootfs-overlay, or `generated` (the image builder). */
  component: string;
  /** The compressed archive. */
  file: string;
}

/** What meta/segments.json of the initramfs step records, in unpack order. */
export interface SegmentInfo {
  component: string;
  /** Compressed bytes of this piece in the image. */
  bytes: number;
}

/** Writes `entries` as one compressed archive; false (and no file) when there is nothing to write. */
export async function writeSegment(
  entries: readonly CpioEntry[],
  epoch: number,
  compression: Compression,
  outFile: string,
  signal?: AbortSignal,
): Promise<boolean> {
  if (entries.length === 0) return false;
  await buildInitramfs({ entries, epoch, compression, outFile, signal });
  return true;
}

/**
 * The last archive: every directory of the merged tree with its final mode, and the entries at
 * `paths` (generated files, device nodes, the skeleton's links) as the merged tree has them.
 */
export function finalSegmentEntries(merged: readonly CpioEntry[], paths: ReadonlySet<string>): CpioEntry[] {
  return merged.filter((e) => e.type === 'dir' || paths.has(e.path));
}

/** Concatenates the segments into `outFile` (temp file + rename); returns their sizes in order. */
export async function concatSegments(segments: readonly Segment[], outFile: string): Promise<SegmentInfo[]> {
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = tempSibling(outFile);
  const infos: SegmentInfo[] = [];
  try {
    const out = await open(tmp, 'w');
    try {
      for (const s of segments) {
        const bytes = await readFile(s.file);
        infos.push({ component: s.component, bytes: bytes.length });
        await out.write(bytes);
      }
    } finally {
      await out.close();
    }
    await rename(tmp, outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return infos;
}
