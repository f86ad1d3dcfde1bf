import { blankControls, stripEscapes } from '../util/ansi.js';
import { tailFile } from '../util/exec.js';

/**
 * What a user sees of steps that are building, so a 15-minute kernel compile never looks like a
 * hang. In a terminal each running step's line shows its elapsed time and, under it, the last line
 * of its log (refreshed every second). Without a terminal (CI logs) one line per running step is
 * printed every `intervalMs`: `[12m30s] recipe:linux building — CC drivers/net/...`.
 */
export interface ProgressView {
  /** Sets the step's title (terminal mode). */
  setTitle(title: string): void;
  /** Sets the line shown under the step (terminal mode). */
  setOutput(line: string): void;
}

interface Running {
  id: string;
  start: number;
  logPath: string;
  view: ProgressView;
}

/** The non-terminal heartbeat interval: env ZOS_PROGRESS_INTERVAL (seconds), default 30. */
export function heartbeatIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ZOS_PROGRESS_INTERVAL;
  const s = raw === undefined || raw === '' ? 30 : Number(raw);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/** `12m30s`, `45s`, `1h02m03s`. */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h) return `${h}h${pad(m)}m${pad(s)}s`;
  if (m) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

/**
 * A log line as a heartbeat shows it: colours (redis's Makefile prints them) and other control
 * codes would garble a terminal or a CI log; of carriage-return progress (xz, wget) the last state.
 */
export function plainLine(line: string): string {
  const last = line.replace(/\r+$/, '').split('\r').pop() ?? '';
  return blankControls(stripEscapes(last)).replace(/\s+/g, ' ').trim();
}

/** The last non-empty line of a log, without the `# `/`$ ` markers' noise, cut to `width`. */
export async function lastLogLine(path: string, width = 100): Promise<string> {
  const tail = await tailFile(path, 5).catch(() => '');
  const clean = tail.split('\n').map(plainLine).filter(Boolean).pop() ?? '';
  return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean;
}

export class Progress {
  private readonly running = new Map<string, Running>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly mode: 'terminal' | 'lines',
    private readonly intervalMs: number = mode === 'terminal' ? 1000 : heartbeatIntervalMs(),
    private readonly print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {}

  begin(id: string, logPath: string, view: ProgressView): void {
    this.running.set(id, { id, start: Date.now(), logPath, view });
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  end(id: string): void {
    this.running.delete(id);
    if (this.running.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const r of [...this.running.values()]) {
      const elapsed = formatElapsed(now - r.start);
      const last = await lastLogLine(r.logPath);
      if (!this.running.has(r.id)) continue;
      if (this.mode === 'terminal') {
        r.view.setTitle(`${r.id}: building ${elapsed}`);
        r.view.setOutput(last);
      } else {
        this.print(`[${elapsed}] ${r.id} building${last ? ` — ${last}` : ''}`);
      }
    }
  }
}
