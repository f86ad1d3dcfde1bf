/** One member of a newc cpio archive, as the report needs it. */
export interface NewcMember {
  path: string;
  /** Type and permission bits (st_mode). */
  mode: number;
  data: Buffer;
}

const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

export const fileType = (mode: number): number => mode & S_IFMT;

/**
 * Lists the members of a (decompressed) newc archive, the initramfs format. Reads only what the
 * report needs; the strict reader that checks every header rule is the tests' (test/helpers).
 */
export function readNewcMembers(buf: Buffer): NewcMember[] {
  const members: NewcMember[] = [];
  const align = (n: number) => (n + 3) & ~3;
  let off = 0;
  while (off + 110 <= buf.length) {
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701' && magic !== '070702') throw new Error(`not a newc archive: bad magic at byte ${off}`);
    const field = (i: number) => parseInt(buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const namesize = field(11);
    const filesize = field(6);
    const path = buf.toString('utf8', off + 110, off + 110 + namesize - 1);
    const dataStart = align(off + 110 + namesize);
    if (path === 'TRAILER!!!') break;
    members.push({ path: path.replace(/^\.\//, ''), mode: field(1), data: buf.subarray(dataStart, dataStart + filesize) });
    off = align(dataStart + filesize);
  }
  return members;
}
