/**
 * Wire types of the core0 protocol (docs/protocol.md). Commands are JSON objects pushed to the Redis
 * list `core:default`; results are JSON objects pushed to `result:<id>`.
 */

/** Final state of a command. */
export type ResultState = 'SUCCESS' | 'ERROR' | 'TIMEOUT' | 'KILLED' | 'UNKNOWN_CMD' | 'DUPLICATE_ID';

export const RESULT_STATES: readonly ResultState[] = [
  'SUCCESS',
  'ERROR',
  'TIMEOUT',
  'KILLED',
  'UNKNOWN_CMD',
  'DUPLICATE_ID',
];

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
  /** Run again (1 s later) while it fails, at most this many runs. */
  max_restart?: number;
  /** Run again this many seconds after each run, until killed. */
  recurring_period?: number;
  /** Output levels to capture and stream (1 stdout, 2 stderr); all when absent. */
  log_levels?: number[];
}

/** A result exactly as the agent stores it in `result:<id>`. */
export interface RawResult {
  id: string;
  command: string;
  /** JSON encoding of the payload (a string even for objects, as in 0-core). */
  data: string;
  /** [stdout, stderr] of process commands; empty strings otherwise. */
  streams: [string, string];
  /** 20 (JSON data) for builtin commands, 0 for process commands (core.system, bash). */
  level: number;
  state: ResultState;
  /** 1000 + exit code when a process failed (0 on success), else an agent code (400, 403, 404, 413, 500, 503, 504). */
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
  /**
   * The AUTH password: a token signed by an operator key (token.ts), or a function minting one for the
   * node named in its TLS certificate ('' over plain RESP). None for insecure development nodes.
   */
  token?: string | ((node: string) => string);
  /**
   * TLS (the default): `pin` is the node's certificate fingerprint (`sha256:AB:CD:...`, on its console);
   * without one the certificate is trusted on first use and reported to `onFirstUse`. `false`: plain
   * RESP, only for nodes in runmode=dev or insecure mode.
   */
  tls?: false | { pin?: string; onFirstUse?: (fingerprint: string, node: string) => void };
  /** Timeout of one TCP connect + AUTH, in ms (default 5000). */
  connectTimeoutMs?: number;
  // Outbound mode (build/agent-client/mgmt.ts builds these for a node behind a management Redis; the
  // token is then the operator account's password and `tls.pin` the management Redis certificate's):
  /** ACL user to AUTH as (AUTH username password). */
  username?: string;
  /** Put before every protocol key: `node:<id>:` drives node <id> through a management Redis. */
  namespace?: string;
  /** Names the agent in messages instead of host:port (e.g. "node zos-x via rediss://mgmt:6380"). */
  label?: string;
  /** Replaces the password advice of a refused AUTH. */
  authHint?: string;
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
  maxRestart?: number;
  recurringPeriod?: number;
  logLevels?: number[];
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

/** One output line of `stream:<id>`. */
export interface StreamLine {
  stream: 'stdout' | 'stderr';
  /** The message level: 1 stdout, 2 stderr. */
  level: number;
  line: string;
}

/** An entry of the list `stream:<id>` as the agent writes it (0-core's format). */
export interface StreamMessage {
  /** 0 for the node, a container id for a container's job. */
  core: number;
  /** The job id. */
  command: string;
  /** meta = level << 16 | flags (0x2 end, success; 0x4 end, error). epoch in ns. */
  message: { message: string; epoch: number; meta: number };
}

/** How `stream:<id>` ended. */
export interface StreamEnd {
  success: boolean;
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
