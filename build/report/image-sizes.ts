import { stat } from 'node:fs/promises';
import type { SegmentInfo } from '../image/segments.js';
import type { Compression } from '../profile/types.js';
import { ZosError } from '../util/errors.js';
import { LAYERS_DIR } from '../image/mounted.js';
import { decompress, parseNewc } from '../release/compare.js';

const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export interface ImageFile {
  path: string;
  component: string;
  /** Bytes in the image (a symlink counts its target's length, as the archive stores it). */
  size: number;
}

export interface ComponentSize {
  component: string;
  files: number;
  bytes: number;
  /** Its pieces of the initramfs, compressed (exact: the image is one compressed archive per component). */
  compressed: number;
  /**
   * A mounted layer (build/image/mounted.ts): its files are one squashfs image, already compressed,
   * and links into it, so `bytes` counts the image, not the files inside.
   */
  mounted: boolean;
}

export interface ImageSizes {
  compression: Compression;
  files: ImageFile[];
  components: ComponentSize[];
  /** Sum of file sizes. */
  bytes: number;
  /** The uncompressed cpio archives (headers and padding included). */
  archiveBytes: number;
  /** The real initramfs file. */
  compressedBytes: number;
}

/**
 * Sizes of the image by component and by file, uncompressed and compressed, read back from the
 * initramfs itself (so they are the image's bytes, not a guess from the staging dirs). `segments`
 * are its pieces in order (the initramfs step's meta/segments.json): the n-th archive of the image
 * is the n-th piece, and a file belongs to the last piece that has it, as when the kernel unpacks.
 */
export async function imageSizes(
  initramfs: string,
  compression: Compression,
  segments: readonly SegmentInfo[],
): Promise<ImageSizes> {
  const archive = await decompress(initramfs, compression);
  const owner = new Map<string, ImageFile>();
  let piece = 0;
  for (const m of parseNewc(archive)) {
    if (m.name === 'TRAILER!!!') {
      piece++;
      continue;
    }
    const type = m.header.mode & 0o170000;
    if (type !== S_IFREG && type !== S_IFLNK) continue;
    const component = segments[piece]?.component;
    if (component === undefined)
      throw new ZosError(`report: ${initramfs} has more archives than its ${segments.length} recorded pieces`);
    const path = m.name.replace(/^\.\//, '');
    owner.delete(path); // re-inserted: the map keeps the unpack order of the survivors
    owner.set(path, { path, component, size: m.data.length });
  }
  if (piece !== segments.length)
    throw new ZosError(`report: ${initramfs} has ${piece} archives, its step recorded ${segments.length} pieces`);
  const byComponent = new Map<string, ComponentSize>();
  const sizeOf = (component: string): ComponentSize => {
    const c = byComponent.get(component) ?? { component, files: 0, bytes: 0, compressed: 0, mounted: false };
    byComponent.set(component, c);
    return c;
  };
  for (const s of segments) sizeOf(s.component).compressed += s.bytes;
  const files = [...owner.values()];
  for (const f of files) {
    const c = sizeOf(f.component);
    c.files++;
    c.bytes += f.size;
    if (f.path === `${LAYERS_DIR}/${f.component}.squashfs`) c.mounted = true;
  }
  const components = [...byComponent.values()];
  components.sort((a, b) => b.bytes - a.bytes || (a.component < b.component ? -1 : 1));
  files.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  return {
    compression,
    files,
    components,
    bytes: files.reduce((n, f) => n + f.size, 0),
    archiveBytes: archive.length,
    compressedBytes: (await stat(initramfs)).size,
  };
}
