/**
 * Writes ustar archives byte by byte, so tests can build hostile archives (absolute paths, `..`,
 * links out of the tree, device nodes) that well-behaved tar writers refuse or sanitise.
 */

export interface RawTarEntry {
  path: string;
  /** ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' FIFO. */
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  mode?: number;
  data?: Buffer | string;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  mtime?: number;
}

function octal(value: number, width: number): string {
  // width-1 digits plus a terminating NUL, the classic ustar encoding.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: RawTarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string) => {
    const b = Buffer.from(s, 'utf8');
    if (b.length > len) throw new Error(`tar-raw: field too long: ${s}`);
    b.copy(h, off);
  };
  put(0, 100, e.path);
  put(100, 8, octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(e.mtime ?? 1_600_000_000, 12));
  put(148, 8, '        '); // checksum is computed with this field as spaces
  put(156, 1, e.type);
  put(157, 100, e.linkpath ?? '');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  put(329, 8, octal(e.devmajor ?? 0, 8));
  put(337, 8, octal(e.devminor ?? 0, 8));
  let sum = 0;
  for (const byte of h) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A complete uncompressed tar (with the two zero end blocks). */
export function rawTar(entries: readonly RawTarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === '0' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
