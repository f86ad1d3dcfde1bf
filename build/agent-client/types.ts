/**
 * Wire types of the core0 protocol (docs/protocol.md). Commands are JSON objects pushed to the Redis
 * list `core:default`; results are JSON objects pushed to `result:<id>`.
 */

/** Final state of a command. */
export type ResultState = 'SUCCESS' | 'ERROR' | 'TIMEOUT' | 'KILLED' | 'UNKNOWN_CMD' | 'DUPLICATE_ID';

export const RESULT_STATES: readonly ResultState[] = ['SUCCESS', 'ERROR', 'TIMEOUT', 'KILLED', 'UNKNOWN_CMD', 'DUPLICATE_ID'];

/** A command as pushed to `core:default`. */
export interface AgentCommand {
  id: string;
  command: string;
  arguments?: Record<string, unknown>;
  queue?: string;
  /** Seconds; the agent kills the job and answers TIMEOUT when exceeded. */
  max_time?: number;
  stream?: boolean;
  tags?: unknown;
}

/** A result exactly as the agent stores it in `result:<id>`. */
export interface RawResult {
  id: string;
  command: string;
  /** JSON encoding of the payload (a string even for objects, as in 0-core). */
  data: string;
  /** [stdout, stderr] of process commands; empty strings otherwise. */
  streams: [string, string];
  level: number;
  state: ResultState;
  /** Exit code (process commands) or agent error code (400, 404, 409, 413, 500, 503, 504). */
  code: number;
  /** Milliseconds since the epoch. */
  starttime: number;
  /** Duration in milliseconds. */
  time: number;
  tags: unknown;
}

/** A result with `data` decoded. */
export interface AgentResult<T = unknown> extends RawResult {
  /** `JSON.parse(data)`, or undefined when data is empty or not JSON. */
  value: T | undefined;
}

export interface ConnectOptions {
  host: string;
  port: number;
  password?: string;
  /** Timeout of one TCP connect + AUTH, in ms (default 5000). */
  connectTimeoutMs?: number;
}

export interface CallOptions {
  /** Use this id instead of a random UUID. */
  id?: string;
  /** Agent-side limit in seconds (`max_time`). */
  maxTime?: number;
  /** Commands sharing a queue name run one at a time, in order. */
  queue?: string;
  /** Publish output lines to `stream:<id>` while the job runs. */
  stream?: boolean;
  tags?: unknown;
  /** How long to wait for the result, in ms (default: maxTime + 30 s, or 60 s). */
  timeoutMs?: number;
}

export interface SystemOptions extends CallOptions {
  env?: Record<string, string>;
  dir?: string;
  stdin?: string;
  /** Receive output lines live (sets `stream: true`). */
  onLine?: (line: StreamLine) => void;
}

/** One entry of `stream:<id>`. */
export interface StreamLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Marker that ends `stream:<id>`. */
export interface StreamEnd {
  state: ResultState;
  code: number;
}

export type InfoKind = 'cpu' | 'mem' | 'disk' | 'nic' | 'os' | 'version';
export const INFO_KINDS: readonly InfoKind[] = ['cpu', 'mem', 'disk', 'nic', 'os', 'version'];

/** An entry of `job.list`. */
export interface JobInfo {
  id: string;
  command: string;
  queue?: string;
  state: 'queued' | 'running';
  starttime?: number;
  created: number;
  max_time?: number;
  pids?: number[];
  process?: string[];
  tags: unknown;
}
