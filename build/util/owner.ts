import { readFileSync } from 'node:fs';

/**
 * Which process owns a lock, a temp file or a work dir, in a form that proves whether that process
 * is gone: pid plus the process's start time (field 22 of /proc/<pid>/stat, in clock ticks since
 * boot). A pid alone can be reused by an unrelated process after a kill -9 or a reboot; the pair
 * cannot, so an owner is "gone" exactly when no process has that pid with that start time.
 */
export interface Owner {
  pid: number;
  /** null: recorded by an older zos-build that stored the pid only. */
  start: number | null;
}

/** The start time of `pid`, or null when there is no such process. */
export function startTimeOf(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]); // field 22 overall; fields[0] is field 3
  return Number.isFinite(start) ? start : null;
}

/** This process. */
export const self: Owner = { pid: process.pid, start: startTimeOf(process.pid) };

/** `<pid>.<start>`: how an owner appears in file names and lock files. */
export function ownerTag(o: Owner = self): string {
  return o.start === null ? String(o.pid) : `${o.pid}.${o.start}`;
}

export function parseOwnerTag(tag: string): Owner | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(tag.trim());
  return m ? { pid: Number(m[1]), start: m[2] === undefined ? null : Number(m[2]) } : undefined;
}

/**
 * True only when the owner provably no longer runs. With no recorded start time (an old-format
 * record), a live pid counts as the owner: never take over from something that may be it.
 */
export function ownerGone(o: Owner): boolean {
  if (o.pid === self.pid && (o.start === null || o.start === self.start)) return false;
  const start = startTimeOf(o.pid);
  if (start === null) return true;
  return o.start !== null && start !== o.start;
}
