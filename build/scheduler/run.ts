import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import type { StepStore } from '../cache/step-store.js';
import type { Graph } from '../graph/types.js';
import { buildAbort, StepLog } from '../util/exec.js';
import { StepError, errorMessage } from '../util/errors.js';
import { rmrf } from '../util/fs.js';
import { waitForLock } from '../util/lock.js';
import { Progress } from './progress.js';
import { Semaphore } from './semaphore.js';
import { newWorkDir } from './work-dir.js';

export interface RunOptions {
  graph: Graph;
  fingerprints: ReadonlyMap<string, string>;
  /** Steps to bring up to date (with everything they need). */
  needed: ReadonlySet<string>;
  store: StepStore;
  /** Per-step logs go to `<logDir>/<step>.log`. */
  logDir: string;
  workRoot: string;
  jobs: number;
  verbose: boolean;
  /** Optional hooks for a remote cache: try to fetch an output before building it, share it after. */
  remote?: {
    readonly readOnly: boolean;
    has(fingerprint: string): Promise<boolean>;
    /** `dest` must not exist; it is created only on a verified hit. */
    get(fingerprint: string, dest: string): Promise<boolean>;
    put(fingerprint: string, src: string): Promise<void>;
  };
}

/** `cached`: found in the local step cache; `downloaded`: from the remote step cache. */
export type StepOutcome = 'built' | 'cached' | 'downloaded';

/** When a step did its own work (after its dependencies were done and it got a slot), in ms since the epoch. */
export interface StepTiming {
  outcome: StepOutcome;
  start: number;
  end: number;
}

export interface RunResult {
  outcomes: Map<string, StepOutcome>;
  outputs: Map<string, string>;
  timings: Map<string, StepTiming>;
}

/** A terminal gets live lines; CI logs and pipes get a heartbeat line per running step. */
function interactive(verbose: boolean): boolean {
  return !verbose && process.stdout.isTTY === true && !process.env.CI;
}

export const defaultJobs = (): number => availableParallelism();

/** The file name of a step's log in the log dir. */
export function logName(stepId: string): string {
  return `${stepId.replace(/[^A-Za-z0-9._-]+/g, '-')}.log`;
}

/**
 * Runs the needed steps as a DAG: a step starts once its dependencies are done, at most `jobs`
 * steps build at once, and each build may itself use `jobs` (make -j). Cached steps cost a stat.
 */
export async function runSteps(opts: RunOptions): Promise<RunResult> {
  const outcomes = new Map<string, StepOutcome>();
  const outputs = new Map<string, string>();
  const timings = new Map<string, StepTiming>();
  const tty = interactive(opts.verbose);
  const progress = new Progress(tty ? 'terminal' : 'lines');
  const done = new Map<string, Promise<void>>();
  const slots = new Semaphore(opts.jobs);
  const order = opts.graph.order.filter((id) => opts.needed.has(id));

  const resolvers = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  for (const id of order) {
    done.set(id, new Promise<void>((resolve, reject) => resolvers.set(id, { resolve, reject })));
    done.get(id)!.catch(() => undefined); // observed through the task that awaits it
  }

  const finish = (id: string, outcome: StepOutcome, start: number): void => {
    outcomes.set(id, outcome);
    timings.set(id, { outcome, start, end: Date.now() });
  };

  const runOne = async (
    id: string,
    setTitle: (t: string) => void,
    setOutput: (line: string) => void,
  ): Promise<void> => {
    const step = opts.graph.steps.get(id)!;
    const fp = opts.fingerprints.get(id)!;
    await Promise.all(step.deps.map((d) => done.get(d)!));
    const useCached = async (): Promise<void> => {
      finish(id, 'cached', Date.now());
      outputs.set(id, opts.store.pathOf(fp));
      setTitle(`${id} (cached)`);
      // Share what this machine has and the remote lacks (a runner that built before the cache existed).
      if (opts.remote && !opts.remote.readOnly && !(await opts.remote.has(fp)))
        await opts.remote.put(fp, opts.store.pathOf(fp));
    };
    if (await opts.store.has(fp)) return useCached();
    // One build at a time produces a given output; a second build of it waits, then reuses it.
    const unlockStep = await waitForLock(opts.store.lockPath(fp), {
      signal: buildAbort.signal,
      onWait: (holder) => setTitle(`${id}: waiting for zos-build pid ${holder.pid}, which is building it`),
    });
    try {
      if (await opts.store.has(fp)) return await useCached();
      await buildLocked(id, fp, setTitle, setOutput);
    } finally {
      await unlockStep();
    }
  };

  const buildLocked = async (
    id: string,
    fp: string,
    setTitle: (t: string) => void,
    setOutput: (line: string) => void,
  ): Promise<void> => {
    const step = opts.graph.steps.get(id)!;
    const release = await slots.acquire();
    // A step that got its slot after Ctrl-C does not start (it would only fail on the aborted signal).
    if (buildAbort.signal.aborted) {
      release();
      throw buildAbort.signal.reason;
    }
    const log = await StepLog.create(join(opts.logDir, logName(id)));
    let workDir: string | undefined;
    const start = Date.now();
    try {
      if (opts.remote) {
        const tmp = opts.store.tempPath(fp);
        if (await opts.remote.get(fp, tmp)) {
          outputs.set(id, await opts.store.commit(tmp, fp));
          finish(id, 'downloaded', start);
          setTitle(`${id} (from remote cache)`);
          return;
        }
      }
      setTitle(`${id}: building`);
      progress.begin(id, log.path, { setTitle, setOutput });
      log.note(`# step ${id}, fingerprint ${fp}`);
      const tmp = await opts.store.tempDir(fp);
      workDir = await newWorkDir(opts.workRoot, `${logName(id).replace(/\.log$/, '')}-${fp.slice(0, 12)}`);
      try {
        await step.run({
          outDir: tmp,
          workDir,
          depOutputs: new Map(step.deps.map((d) => [d, outputs.get(d)!])),
          fingerprint: fp,
          jobs: opts.jobs,
          log,
          signal: buildAbort.signal,
        });
      } catch (err) {
        await rmrf(tmp);
        throw new StepError(id, err instanceof Error ? err : new Error(errorMessage(err)), log.path);
      }
      outputs.set(id, await opts.store.commit(tmp, fp));
      finish(id, 'built', start);
      log.note(`# done in ${((Date.now() - start) / 1000).toFixed(1)} s`);
      setTitle(`${id} (built in ${((Date.now() - start) / 1000).toFixed(1)} s)`);
      if (opts.remote) await opts.remote.put(fp, outputs.get(id)!);
    } finally {
      progress.end(id);
      log.close();
      release();
      if (workDir) await rmrf(workDir);
    }
  };

  // Steps started and not yet settled: a failed build returns only once they have cleaned up.
  const inFlight = new Set<Promise<void>>();
  const tasks: ListrTask[] = order.map((id) => ({
    title: id,
    task: async (_ctx, task) => {
      try {
        const running = runOne(
          id,
          (t) => (task.title = t),
          (line) => (task.output = line),
        );
        inFlight.add(running);
        await running.finally(() => inFlight.delete(running));
        resolvers.get(id)!.resolve();
      } catch (err) {
        resolvers.get(id)!.reject(err);
        throw err;
      }
    },
  }));

  // Loaded here, not at start-up: a no-op build never renders a task list.
  const { Listr } = await import('listr2');
  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: true,
    renderer: tty ? 'default' : 'simple',
    // The last log line of a running step shows under it (set by Progress, terminal only).
    rendererOptions: { collapseErrors: false, outputBar: 1 },
    registerSignalListeners: false,
  } as never);
  try {
    await list.run();
  } catch (err) {
    // One failed step ends the build: the steps still running are stopped (their commands killed),
    // and this returns only after they have removed their work dirs and released their step locks,
    // so the caller's out/ lock is released last and a new build never meets a half-stopped one.
    if (!buildAbort.signal.aborted) buildAbort.abort(err);
    await Promise.allSettled(inFlight);
    throw err;
  }
  return { outcomes, outputs, timings };
}
