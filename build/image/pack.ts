import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from '../profile/types.js';
import type { CpioEntry } from './cpio.js';
import { checkImageElves } from './elf.js';
import { type GeneratedFile, type RootfsLayer, STANDARD_DEVICES, collectRootfs } from './rootfs.js';
import { concatSegments, finalSegmentEntries, type Segment, type SegmentInfo, writeSegment } from './segments.js';

/** The report's name for what the image builder writes itself (skeleton, generated files, devices). */
export const GENERATED_COMPONENT = 'generated';

/** A layer of the image and where its archive is (see segments.ts). */
export interface PackLayer {
  /** Who the files belong to (a recipe name, rootfs-overlay): the report's component. */
  component: string;
  rootfs: RootfsLayer;
  /**
   * Its archive as `layerSegment` wrote it (a cached step's output), `null` when that layer has no
   * files; absent: packed here.
   */
  segment?: string | null;
}

export interface PackOptions {
  /** Laid down first, carried by the last archive (the skeleton: mount points and standard links). */
  base: readonly RootfsLayer[];
  layers: readonly PackLayer[];
  /** Files the build writes itself; they and the device nodes go into the last archive. */
  generated: readonly GeneratedFile[];
  /** Applied to every archive's entries and to the merged tree (a release drops headers and docs). */
  select: (entries: CpioEntry[]) => CpioEntry[];
  epoch: number;
  compression: Compression;
  /** When set, every ELF must find its interpreter and libraries (of this GNU triplet) in the image. */
  elfTriplet?: string;
  outFile: string;
  /** Scratch space for the archives packed here. */
  workDir: string;
  /** Stops the compressors (the build's abort). */
  signal?: AbortSignal;
}

export interface PackResult {
  /** Entries of the merged tree (what the node sees once the kernel unpacked everything). */
  entries: number;
  segments: SegmentInfo[];
}

/** One layer's files as the archive `packImage` takes for it; false when the layer has no files. */
export async function layerSegment(
  rootfs: RootfsLayer,
  select: PackOptions['select'],
  epoch: number,
  compression: Compression,
  outFile: string,
  signal?: AbortSignal,
): Promise<boolean> {
  return writeSegment(select(await collectRootfs([rootfs], [], [])), epoch, compression, outFile, signal);
}

/**
 * Packs the initramfs: merges base, layers and generated files as the node will see them (failing on
 * a conflict or an ELF whose libraries are missing), then writes each layer's archive (or takes the
 * one given), and a last archive with the base, the generated files, the device nodes and every
 * directory's final mode, and concatenates them into `outFile`.
 */
export async function packImage(o: PackOptions): Promise<PackResult> {
  const merged = o.select(await collectRootfs([...o.base, ...o.layers.map((l) => l.rootfs)], o.generated));
  if (o.elfTriplet) await checkImageElves(merged, o.elfTriplet);

  await mkdir(o.workDir, { recursive: true });
  const segments: Segment[] = [];
  for (const [i, l] of o.layers.entries()) {
    let file = l.segment;
    if (file === undefined) {
      const own = join(o.workDir, `layer-${i}.cpio.part`);
      file = (await layerSegment(l.rootfs, o.select, o.epoch, o.compression, own, o.signal)) ? own : null;
    }
    if (file !== null) segments.push({ component: l.component, file });
  }
  const last = new Set([...o.generated, ...STANDARD_DEVICES].map((g) => g.path));
  for (const e of await collectRootfs(o.base, [], [])) last.add(e.path);
  const lastFile = join(o.workDir, 'generated.cpio.part');
  await writeSegment(finalSegmentEntries(merged, last), o.epoch, o.compression, lastFile, o.signal);
  segments.push({ component: GENERATED_COMPONENT, file: lastFile });
  return { entries: merged.length, segments: await concatSegments(segments, o.outFile) };
}
