import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { quote as Quote } from 'zx';
import { CommandError } from './errors.js';

/** zx is loaded on first use: commands that only compare fingerprints never spawn anything. */
const zx = (): Promise<typeof import('zx')> => import('zx');

/** Cancels every command still running when the build is interrupted or a sibling step fails hard. */
export const buildAbort = new AbortController();

/**
 * Process groups of the commands steps are running. zx starts each command detached, in a group of
 * its own (so a terminal's Ctrl-C reaches only zos-build, which then stops them in order through
 * buildAbort); whatever way this process exits (a second Ctrl-C, an uncaught error), every group
 * still running is killed with it, so an interrupted build leaves nothing running.
 */
const runningGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of runningGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const spawnTracked: typeof spawn = ((...args: Parameters<typeof spawn>) => {
  const child = spawn(...args);
  const pid = child.pid;
  if (pid !== undefined) {
    runningGroups.add(pid);
    child.once('exit', () => runningGroups.delete(pid));
  }
  return child;
}) as typeof spawn;

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Bytes fed to the command's stdin. */
  input?: string | Buffer;
}

/**
 * The full log of one step on disk. Every command a step runs appends its command line and all of
 * its output here, so a failure can be diagnosed from this one file.
 */
export class StepLog {
  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  static async create(path: string): Promise<StepLog> {
    await mkdir(dirname(path), { recursive: true });
    return new StepLog(path, openSync(path, 'w'));
  }

  note(line: string): void {
    writeSync(this.fd, `${line}\n`);
  }

  /** Runs `cmd args...` (no shell interpretation of args) with stdout and stderr going to the log. */
  async run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<void> {
    const { $, quote } = await zx();
    const shown = [cmd, ...args].map((a) => (quote as typeof Quote)(a)).join(' ');
    this.note(`$ ${opts.cwd ? `(cd ${opts.cwd}) ` : ''}${shown}`);
    const env = { ...process.env, ...opts.env } as NodeJS.ProcessEnv;
    const result = await $({
      cwd: opts.cwd,
      env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', this.fd, this.fd],
      input: opts.input,
      nothrow: true,
      quiet: true,
      verbose: false,
      signal: buildAbort.signal,
      detached: true,
      spawn: spawnTracked,
    })`${cmd} ${args}`;
    if (result.exitCode !== 0) throw new CommandError(shown, result.exitCode, result.signal);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The last `lines` lines of a log file, for printing on failure. */
export async function tailFile(path: string, lines = 40): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } finally {
    await fh.close();
  }
}

/** Runs a command and returns its trimmed stdout; for quick host queries (versions, git). */
export async function capture(cmd: string, args: readonly string[], cwd?: string): Promise<string> {
  const { $ } = await zx();
  const out = await $({ cwd, quiet: true, verbose: false, nothrow: true })`${cmd} ${args}`;
  if (out.exitCode !== 0) throw new CommandError([cmd, ...args].join(' '), out.exitCode, out.signal);
  return out.stdout.trim();
}
