import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from '../profile/types.js';
import type { CpioEntry } from './cpio.js';
import { checkImageElves } from './elf.js';
import { hasImageFiles, mountedEntries, writeLayerImage } from './mounted.js';
import { type GeneratedFile, type RootfsLayer, STANDARD_DEVICES, collectRootfs } from './rootfs.js';
import { concatSegments, finalSegmentEntries, type Segment, type SegmentInfo, writeSegment } from './segments.js';

/** The report's name for what the image builder writes itself (skeleton, generated files, devices). */
export const GENERATED_COMPONENT = 'generated';

/** A layer of the image and where its archive is (see segments.ts). */
export interface PackLayer {
  /** Who the files belong to (a recipe name, rootfs-overlay): the report's component. */
  component: string;
  rootfs: RootfsLayer;
  /** Its files reach the node as a squashfs image core0 mounts (see mounted.ts). */
  mounted?: boolean;
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

/** What `layerSegment` packs: one layer, as the image selects its entries. */
export interface LayerSegmentOptions {
  rootfs: RootfsLayer;
  select: PackOptions['select'];
  epoch: number;
  compression: Compression;
  outFile: string;
  /** Packs the layer as a mounted layer of this component (see mounted.ts). */
  mountedAs?: string;
  /** Scratch space (the mounted layer's staging tree and image). */
  workDir: string;
  signal?: AbortSignal;
}

/** One layer's files as the archive `packImage` takes for it; false when the layer has no files. */
export async function layerSegment(o: LayerSegmentOptions): Promise<boolean> {
  let entries = o.select(await collectRootfs([o.rootfs], [], []));
  if (o.mountedAs !== undefined && hasImageFiles(entries)) {
    const image = join(o.workDir, `${o.mountedAs}.squashfs`);
    await writeLayerImage(entries, o.mountedAs, o.epoch, image, o.workDir, o.signal);
    entries = mountedEntries(entries, o.mountedAs, image);
  }
  return writeSegment(entries, o.epoch, o.compression, o.outFile, o.signal);
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
      const packed = await layerSegment({
        ...o,
        rootfs: l.rootfs,
        outFile: own,
        mountedAs: l.mounted ? l.component : undefined,
        workDir: join(o.workDir, `layer-${i}`),
      });
      file = packed ? own : null;
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
