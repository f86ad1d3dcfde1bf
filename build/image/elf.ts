import { open, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { ZosError } from '../util/errors.js';
import type { CpioEntry } from './cpio.js';

/**
 * What the dynamic loader needs to start an ELF file, read from its program headers and dynamic
 * section: the interpreter (PT_INTERP), the libraries (DT_NEEDED) and where to look (DT_RPATH,
 * DT_RUNPATH). Parsed here, in TypeScript, so checking an image never runs the host's ldd.
 */
export interface ElfDeps {
  interp?: string;
  needed: string[];
  rpath: string[];
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** The dynamic dependencies of an ELF file; undefined if `buf` is not ELF. Throws on a truncated or corrupt file. */
export function parseElfDeps(buf: Buffer): ElfDeps | undefined {
  if (!isElf(buf) || buf.length < 52) return undefined;
  const is64 = buf[4] === 2;
  const le = buf[5] !== 2;
  const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o: number): number => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const phoff = word(is64 ? 32 : 28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const loads: Array<{ offset: number; vaddr: number; filesz: number }> = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interp: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > buf.length) throw new Error('program header table is truncated');
    const type = u32(ph);
    const offset = word(ph + (is64 ? 8 : 4));
    const vaddr = word(ph + (is64 ? 16 : 8));
    const filesz = word(ph + (is64 ? 32 : 16));
    if (type === PT_LOAD) loads.push({ offset, vaddr, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    else if (type === PT_INTERP) interp = cString(buf, offset);
  }
  const deps: ElfDeps = { interp, needed: [], rpath: [], runpath: [] };
  if (!dynamic) return deps;
  const entSize = is64 ? 16 : 8;
  const entries: Array<[number, number]> = [];
  for (
    let o = dynamic.offset;
    o + entSize <= dynamic.offset + dynamic.size && o + entSize <= buf.length;
    o += entSize
  ) {
    const tag = word(o);
    if (tag === DT_NULL) break;
    entries.push([tag, word(o + entSize / 2)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  if (strtabAddr === undefined) return deps;
  // DT_STRTAB is an address in memory: map it back to the file through the segment that loads it.
  const seg = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg) throw new Error('dynamic string table is outside every loaded segment');
  const strtab = seg.offset + (strtabAddr - seg.vaddr);
  for (const [tag, val] of entries) {
    if (tag === DT_NEEDED) deps.needed.push(cString(buf, strtab + val));
    else if (tag === DT_RPATH)
      deps.rpath.push(
        ...cString(buf, strtab + val)
          .split(':')
          .filter(Boolean),
      );
    else if (tag === DT_RUNPATH)
      deps.runpath.push(
        ...cString(buf, strtab + val)
          .split(':')
          .filter(Boolean),
      );
  }
  return deps;
}

function cString(buf: Buffer, offset: number): string {
  if (offset >= buf.length) throw new Error('string offset is past the end of the file');
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end < 0 ? buf.length : end);
}

/** Directories every dynamic loader searches (glibc and musl). */
const DEFAULT_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];

/** Debian's glibc also searches its multiarch dirs (`/lib/x86_64-linux-gnu`), built into its loader. */
const multiarchDirs = (triplet: string): string[] => [`/lib/${triplet}`, `/usr/lib/${triplet}`];

/** One dependency of an image file that the image cannot satisfy. */
export interface MissingDep {
  file: string;
  kind: 'interpreter' | 'library';
  name: string;
}

async function entryBytes(e: CpioEntry, max?: number): Promise<Buffer> {
  if (!e.data) return Buffer.alloc(0);
  if (Buffer.isBuffer(e.data)) return e.data;
  if (max === undefined) return readFile(e.data.file);
  const fh = await open(e.data.file, 'r');
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Finds, for every ELF file of the image, the interpreter and libraries it needs that the image does
 * not hold. Paths are resolved inside the image (symlinks followed there, never on the host); libraries
 * are searched in RPATH/RUNPATH ($ORIGIN expanded), the standard dirs and the dirs listed in the
 * image's loader config (/etc/ld-musl-*.path, /etc/ld.so.conf).
 */
export async function findMissingDeps(entries: readonly CpioEntry[], gnuTriplet: string): Promise<MissingDep[]> {
  const byPath = new Map(entries.map((e) => [`/${e.path}`, e]));
  const resolve = (path: string): CpioEntry | undefined => {
    let p = posix.normalize(path);
    for (let hops = 0; hops < 40; hops++) {
      // Resolve symlinked parent directories first, then the entry itself.
      const parts = p.split('/').filter(Boolean);
      let cur = '';
      let relinked = false;
      for (let i = 0; i < parts.length; i++) {
        cur += `/${parts[i]}`;
        const e = byPath.get(cur);
        if (!e) return undefined;
        if (e.type === 'symlink') {
          const target = e.target!.startsWith('/') ? e.target! : posix.join(posix.dirname(cur), e.target!);
          p = posix.normalize(posix.join(target, ...parts.slice(i + 1)));
          relinked = true;
          break;
        }
      }
      if (!relinked) return byPath.get(p);
    }
    return undefined;
  };
  const configDirs: string[] = [];
  for (const e of entries) {
    if (e.type === 'file' && (/^etc\/ld-musl-[^/]+\.path$/.test(e.path) || e.path === 'etc/ld.so.conf')) {
      const text = (await entryBytes(e)).toString('utf8');
      configDirs.push(...text.split(/[\s:]+/).filter((d) => d.startsWith('/')));
    }
  }
  const missing: MissingDep[] = [];
  for (const e of entries) {
    if (e.type !== 'file' || !isElf(await entryBytes(e, 4))) continue;
    let deps: ElfDeps | undefined;
    try {
      deps = parseElfDeps(await entryBytes(e));
    } catch (err) {
      throw new ZosError(`image: /${e.path} is a corrupt ELF file: ${(err as Error).message}`);
    }
    if (!deps) continue;
    if (deps.interp && resolve(deps.interp)?.type !== 'file') {
      missing.push({ file: e.path, kind: 'interpreter', name: deps.interp });
    }
    const origin = posix.dirname(`/${e.path}`);
    const expand = (d: string): string => d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin);
    // DT_RPATH is ignored when DT_RUNPATH is present (as ld.so does).
    const dirs = [
      ...(deps.runpath.length ? deps.runpath : deps.rpath).map(expand),
      ...DEFAULT_DIRS,
      ...multiarchDirs(gnuTriplet),
      ...configDirs,
    ];
    for (const lib of deps.needed) {
      const candidates = lib.includes('/') ? [posix.resolve(origin, lib)] : dirs.map((d) => posix.join(d, lib));
      if (!candidates.some((c) => resolve(c)?.type === 'file'))
        missing.push({ file: e.path, kind: 'library', name: lib });
    }
  }
  return missing;
}

/** Fails the build when an ELF file of the image needs a library or interpreter the image lacks. */
export async function checkImageElves(entries: readonly CpioEntry[], gnuTriplet: string): Promise<void> {
  const missing = await findMissingDeps(entries, gnuTriplet);
  if (missing.length === 0) return;
  const lines = missing.map((m) => `/${m.file} needs the ${m.kind} ${m.name}, which is not in the image`);
  throw new ZosError(
    `image: ${missing.length} dynamic dependenc${missing.length === 1 ? 'y is' : 'ies are'} missing:\n  ${lines.join('\n  ')}`,
    'Userland is linked statically against musl (docs/userland.md): build the component with a build kind from build/steps/, ' +
      "or add the recipe that installs the library to the profile's packages.",
  );
}
