/**
 * A strict reader of newc archives for tests: it checks what cpio(1) and bsdtar tolerate (header
 * and data alignment relative to the archive start, zero padding, the check field) and exposes the
 * raw header fields, which neither tool prints (inode, devmajor/minor of the archive).
 */

export interface NewcRecord {
  offset: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  check: number;
  name: string;
  data: Buffer;
}

/** One archive that is the whole buffer (zero padding may follow its trailer). */
export function readNewc(buf: Buffer): { records: NewcRecord[]; end: number } {
  const r = readArchiveAt(buf, 0);
  for (let i = r.end; i < buf.length; i++) if (buf[i] !== 0) throw new Error(`garbage after trailer at ${i}`);
  return r;
}

/**
 * A concatenation of archives, as an initramfs made of pieces decompresses to (each piece read
 * strictly, zero padding allowed between them): the archives' records in order, and the image as
 * the kernel leaves it, each path's last record winning.
 */
export function readNewcImage(buf: Buffer): { archives: NewcRecord[][]; files: Map<string, NewcRecord> } {
  const archives: NewcRecord[][] = [];
  const files = new Map<string, NewcRecord>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) {
      off++;
      continue;
    }
    const r = readArchiveAt(buf, off);
    archives.push(r.records);
    for (const rec of r.records) files.set(rec.name, rec);
    off = r.end;
  }
  return { archives, files };
}

function readArchiveAt(buf: Buffer, start: number): { records: NewcRecord[]; end: number } {
  const records: NewcRecord[] = [];
  let off = start;
  for (;;) {
    if ((off - start) % 4 !== 0) throw new Error(`header at ${off} is not 4-aligned`);
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701') throw new Error(`bad magic ${JSON.stringify(magic)} at ${off}`);
    const field = (i: number) => {
      const s = buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9A-Fa-f]{8}$/.test(s)) throw new Error(`bad hex field ${i} at ${off}: ${s}`);
      return parseInt(s, 16);
    };
    const namesize = field(11);
    const nameEnd = off + 110 + namesize;
    if (buf[nameEnd - 1] !== 0) throw new Error(`name at ${off} is not NUL-terminated`);
    const name = buf.toString('utf8', off + 110, nameEnd - 1);
    let dataStart = nameEnd;
    while ((dataStart - start) % 4) {
      if (buf[dataStart] !== 0) throw new Error(`non-zero name padding at ${dataStart}`);
      dataStart++;
    }
    const filesize = field(6);
    const rec: NewcRecord = {
      offset: off,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      filesize,
      devmajor: field(7),
      devminor: field(8),
      rdevmajor: field(9),
      rdevminor: field(10),
      check: field(12),
      name,
      data: buf.subarray(dataStart, dataStart + filesize),
    };
    off = dataStart + filesize;
    while ((off - start) % 4) {
      if (buf[off] !== 0) throw new Error(`non-zero data padding at ${off}`);
      off++;
    }
    if (name === 'TRAILER!!!') return { records, end: off };
    records.push(rec);
  }
}
