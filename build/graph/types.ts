import type { StepLog } from '../util/exec.js';

/**
 * One unit of work in a build: a recipe's compile, the initramfs, one boot artifact. A step reads
 * the outputs of the steps it depends on and writes only its own output directory; that is what
 * makes its fingerprint (hash of its inputs + its dependencies' fingerprints) a sound cache key.
 */
export interface Step {
  /** Stable, human-readable id: `recipe:linux`, `initramfs`, `artifact:iso`. */
  id: string;
  deps: string[];
  /**
   * Everything besides the dependencies that can change the output, as JSON. File contents enter
   * as hashes (see inputs.ts), so a fingerprint never depends on paths or timestamps.
   */
  inputs(): Promise<unknown>;
  run(ctx: StepRunContext): Promise<void>;
}

export interface StepRunContext {
  /** Empty directory the step writes its output into; it becomes the cached output on success. */
  outDir: string;
  /** Scratch directory, removed after the step (success or failure). */
  workDir: string;
  /** Cached output directories of the dependencies, by step id. */
  depOutputs: ReadonlyMap<string, string>;
  fingerprint: string;
  jobs: number;
  log: StepLog;
  signal: AbortSignal;
}

export interface Graph {
  steps: ReadonlyMap<string, Step>;
  /** Dependencies before dependents; ties broken by id so the order is stable. */
  order: string[];
}

/** A step output's folder for facts about the output that are not published (see the initramfs step). */
export const STEP_META_DIR = 'meta';
