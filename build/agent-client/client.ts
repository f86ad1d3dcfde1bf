/**
 * Host-side client for the core0 agent of a booted node. Speaks upstream 0-core's wire protocol
 * (docs/protocol.md) over the node's Redis: RPUSH a command to `core:default`, wait for the job flag
 * `result:<id>:flag`, then BRPOPLPUSH `result:<id>` (the result stays readable); live output is the
 * list `stream:<id>` of JSON messages. With `namespace: 'node:<id>:'` (outbound mode, see mgmt.ts) every key
 * gets that prefix: the same client drives a node through a management Redis.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { ZosError, errorMessage } from '../util/errors.js';
import { type PinnedTls, parsePin, pinTls } from './tls-pin.js';
import type {
  AgentCommand,
  AgentResult,
  CallOptions,
  ConnectOptions,
  InfoKind,
  JobInfo,
  RawResult,
  StreamEnd,
  StreamLine,
  StreamMessage,
  SystemOptions,
} from './types.js';
import { RESULT_STATES } from './types.js';

export * from './types.js';

export const COMMAND_QUEUE = 'core:default';
export const resultKey = (id: string): string => `result:${id}`;
export const flagKey = (id: string): string => `result:${id}:flag`;
export const streamKey = (id: string): string => `stream:${id}`;

/** How long the agent may take to accept (flag) a pushed command, as upstream's client (10 s). */
const ACCEPT_TIMEOUT_S = 10;

/** Bytes per filesystem.write (upstream's client uses 512 KiB). */
const UPLOAD_BLOCK = 512 * 1024;

type Redis = ReturnType<typeof createClient>;

/** destroy() throws on a client that already closed itself (e.g. after a failed AUTH). */
function destroyQuietly(c: Redis | undefined): void {
  try {
    c?.destroy();
  } catch {
    // already closed
  }
}

/** A command the agent answered with a state other than SUCCESS (from the helpers, not from `call`). */
export class AgentCommandError extends ZosError {
  constructor(readonly result: AgentResult) {
    const detail = typeof result.value === 'string' ? result.value : result.data;
    super(`agent command ${result.command} failed: ${result.state} (code ${result.code}): ${detail}`);
  }
}

/** Turns a Redis/socket error into a message that names the agent and says what to check. */
export function describeConnectError(err: unknown, where: string, authHint?: string): ZosError {
  const msg = errorMessage(err);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) {
    return new ZosError(
      `agent at ${where} refused the token`,
      authHint ??
        "A token must be signed by a key in the node's zos.keys=, unexpired, with audience the node's host " +
          "name or farm:<farmer_id>; the node's console says why it refused it.",
    );
  }
  if (/NOAUTH/i.test(msg)) {
    return new ZosError(`agent at ${where} requires a token`, 'Pass --key FILE (an operator key) or --token.');
  }
  if (/ECONNREFUSED/.test(msg)) {
    return new ZosError(
      `cannot connect to agent at ${where}: connection refused`,
      'Is the node booted and is its port forwarded?',
    );
  }
  if (/timeout|ETIMEDOUT/i.test(msg)) {
    return new ZosError(`cannot connect to agent at ${where}: timed out`);
  }
  return new ZosError(`agent at ${where}: ${msg}`);
}

function decode(raw: string, where: string): AgentResult {
  let r: RawResult;
  try {
    r = JSON.parse(raw) as RawResult;
  } catch {
    throw new ZosError(`agent at ${where} sent a result that is not JSON: ${raw.slice(0, 200)}`);
  }
  if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || !RESULT_STATES.includes(r.state)) {
    throw new ZosError(`agent at ${where} sent a malformed result: ${raw.slice(0, 200)}`);
  }
  let value: unknown;
  if (typeof r.data === 'string' && r.data !== '') {
    try {
      value = JSON.parse(r.data);
    } catch {
      value = r.data;
    }
  }
  return { ...r, streams: Array.isArray(r.streams) ? r.streams : ['', ''], value };
}

/** Flags in the low 16 bits of a stream message's meta. */
export const STREAM_EOF_SUCCESS = 0x2;
export const STREAM_EOF_ERROR = 0x4;

function parseStreamMessage(raw: string, where: string): StreamMessage['message'] {
  try {
    const m = (JSON.parse(raw) as StreamMessage).message;
    if (typeof m.message === 'string' && typeof m.meta === 'number') return m;
  } catch {
    // reported below
  }
  throw new ZosError(`agent at ${where} sent a malformed stream message: ${raw.slice(0, 200)}`);
}

export class AgentClient {
  private readonly idle: Redis[] = [];
  private closed = false;

  private constructor(
    private readonly client: Redis,
    readonly options: ConnectOptions,
    /** The node's certificate fingerprint (`sha256:...`) when connected over TLS. */
    readonly tlsFingerprint?: string,
  ) {}

  get address(): string {
    return this.options.label ?? `${this.options.host}:${this.options.port}`;
  }

  /** A protocol key under the namespace (outbound mode: `node:<id>:`). */
  private key(k: string): string {
    return (this.options.namespace ?? '') + k;
  }

  private static makeClient(opts: ConnectOptions, pinned: PinnedTls | undefined, password?: string): Redis {
    const common = {
      host: opts.host,
      port: opts.port,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      reconnectStrategy: false as const,
    };
    const client = createClient({
      socket: pinned ? { ...common, tls: true as const, ...pinned.options } : common,
      username: opts.username || undefined,
      password: password || undefined,
      // Never queue commands while disconnected: fail fast with a clear error instead.
      disableOfflineQueue: true,
    });
    // Without a listener a socket error would crash the process.
    client.on('error', () => {});
    return client;
  }

  /** Connects and authenticates; throws ZosError (e.g. "agent at host:port refused the password"). */
  static async connect(opts: ConnectOptions): Promise<AgentClient> {
    const where = opts.label ?? `${opts.host}:${opts.port}`;
    let pinned: PinnedTls | undefined;
    if (opts.tls !== false) {
      const pin = opts.tls?.pin === undefined ? undefined : parsePin(opts.tls.pin);
      pinned = await pinTls(opts.host, opts.port, pin, opts.connectTimeoutMs ?? 5000);
      if (pin === undefined) opts.tls?.onFirstUse?.(pinned.fingerprint, pinned.node);
    }
    const token = typeof opts.token === 'function' ? opts.token(pinned?.node ?? '') : opts.token;
    const client = AgentClient.makeClient(opts, pinned, token);
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      destroyQuietly(client);
      throw describeConnectError(err, where, opts.authHint);
    }
    return new AgentClient(client, opts, pinned?.fingerprint);
  }

  /**
   * Retries until the agent answers core.ping, for a node that is still booting. Refused tokens and
   * wrong TLS pins fail at once (retrying cannot fix them); anything else is retried until timeoutMs.
   */
  static async waitForAgent(opts: ConnectOptions, timeoutMs: number): Promise<AgentClient> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      let agent: AgentClient | undefined;
      try {
        agent = await AgentClient.connect({
          ...opts,
          connectTimeoutMs: Math.min(opts.connectTimeoutMs ?? 5000, Math.max(500, deadline - Date.now())),
        });
        await agent.ping({ timeoutMs: Math.max(1000, Math.min(10_000, deadline - Date.now())) });
        return agent;
      } catch (err) {
        await agent?.close();
        if (
          err instanceof ZosError &&
          /refused the token|requires a token|not the pinned|which node/.test(err.message)
        ) {
          throw err;
        }
        last = err;
      }
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
    throw new ZosError(
      `agent at ${opts.label ?? `${opts.host}:${opts.port}`} did not answer within ${Math.round(timeoutMs / 1000)}s: ` +
        errorMessage(last),
    );
  }

  /** A connection for blocking commands (BLPOP/XREAD block the connection they run on). */
  private async blocking(): Promise<Redis> {
    const c = this.idle.pop();
    if (c?.isReady) return c;
    destroyQuietly(c);
    const d = this.client.duplicate();
    d.on('error', () => {});
    try {
      await d.connect();
    } catch (err) {
      destroyQuietly(d);
      throw describeConnectError(err, this.address, this.options.authHint);
    }
    return d;
  }

  private release(c: Redis): void {
    if (!this.closed && c.isReady && this.idle.length < 4) this.idle.push(c);
    else destroyQuietly(c);
  }

  /** Pushes a raw command object (for tests and tools that build commands themselves). */
  async push(cmd: AgentCommand | string): Promise<void> {
    const body = typeof cmd === 'string' ? cmd : JSON.stringify(cmd);
    try {
      await this.client.rPush(this.key(COMMAND_QUEUE), body);
    } catch (err) {
      throw describeConnectError(err, this.address, this.options.authHint);
    }
  }

  /**
   * Runs a blocking operation on a connection of its own. The connection goes back to the pool only
   * once the operation calls `healthy()` (its replies arrived); after a failure it is dropped, since
   * a half-finished blocking command could still deliver later.
   */
  private async withBlocking<T>(fn: (c: Redis, healthy: () => void) => Promise<T>): Promise<T> {
    const c = await this.blocking();
    let ok = false;
    try {
      return await fn(c, () => (ok = true));
    } catch (err) {
      if (err instanceof ZosError) throw err;
      throw describeConnectError(err, this.address, this.options.authHint);
    } finally {
      if (ok) this.release(c);
      else destroyQuietly(c);
    }
  }

  /** Waits until the agent flags job id as accepted (upstream's `result:<id>:flag`). */
  async waitAccepted(id: string, command = '?', timeoutS = ACCEPT_TIMEOUT_S): Promise<void> {
    await this.withBlocking(async (c, healthy) => {
      const reply = await c.brPopLPush(this.key(flagKey(id)), this.key(flagKey(id)), timeoutS);
      healthy();
      if (reply === null) {
        throw new ZosError(
          `agent at ${this.address} did not accept ${command} (id ${id}) within ${timeoutS}s`,
          'Is core0 running on the node?',
        );
      }
    });
  }

  /**
   * Waits for the result of a command. Like upstream's Response.get(), the result is read with
   * BRPOPLPUSH so it stays in `result:<id>` for other readers until it expires.
   */
  async waitResult(id: string, timeoutMs: number, command = '?'): Promise<AgentResult> {
    return this.withBlocking(async (c, healthy) => {
      const reply = await c.brPopLPush(
        this.key(resultKey(id)),
        this.key(resultKey(id)),
        Math.max(0.01, timeoutMs / 1000),
      );
      healthy();
      if (reply === null) {
        const known = (await this.client.exists(this.key(flagKey(id)))) === 1;
        const why = known ? '' : ' (the agent does not know this job id: it expired or was never accepted)';
        throw new ZosError(
          `agent at ${this.address} gave no result for ${command} (id ${id}) within ${Math.round(timeoutMs / 1000)}s${why}`,
        );
      }
      return decode(reply, this.address);
    });
  }

  /** Sends a command and returns its result, whatever its state. */
  async call<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<AgentResult<T>> {
    const id = opts.id ?? randomUUID();
    const cmd: AgentCommand = { id, command };
    if (args !== undefined) cmd.arguments = args;
    if (opts.queue !== undefined) cmd.queue = opts.queue;
    if (opts.maxTime !== undefined) cmd.max_time = opts.maxTime;
    if (opts.stream) cmd.stream = true;
    if (opts.tags !== undefined) cmd.tags = opts.tags;
    if (opts.maxRestart !== undefined) cmd.max_restart = opts.maxRestart;
    if (opts.recurringPeriod !== undefined) cmd.recurring_period = opts.recurringPeriod;
    if (opts.logLevels !== undefined) cmd.log_levels = opts.logLevels;
    const timeoutMs = opts.timeoutMs ?? (opts.maxTime ? opts.maxTime * 1000 + 30_000 : 60_000);
    await this.push(cmd);
    await this.waitAccepted(id, command);
    return (await this.waitResult(id, timeoutMs, command)) as AgentResult<T>;
  }

  /** Like call, but throws AgentCommandError unless the state is SUCCESS; returns the decoded data. */
  async callOk<T = unknown>(command: string, args?: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    const r = await this.call<T>(command, args, opts);
    if (r.state !== 'SUCCESS') throw new AgentCommandError(r);
    return r.value as T;
  }

  /**
   * Runs a program on the node. The result carries streams [stdout, stderr] and the exit code; a
   * non-zero exit is not thrown. With onLine, output lines are delivered while the program runs.
   */
  async system(name: string, args: string[] = [], opts: SystemOptions = {}): Promise<AgentResult> {
    return this.runProcess('core.system', { name, args }, opts);
  }

  /**
   * Runs a shell script with `bash` (on a node without bash: busybox `sh -c`). Same result shape as
   * system().
   */
  async bash(script: string, opts: Omit<SystemOptions, 'env' | 'dir'> = {}): Promise<AgentResult> {
    return this.runProcess('bash', { script }, opts);
  }

  private async runProcess(command: string, base: Record<string, unknown>, opts: SystemOptions): Promise<AgentResult> {
    const { env, dir, stdin, onLine, ...callOpts } = opts;
    const a: Record<string, unknown> = { ...base };
    if (env) a.env = env;
    if (dir) a.dir = dir;
    if (stdin !== undefined) a.stdin = stdin;
    if (!onLine) return this.call(command, a, callOpts);
    const id = callOpts.id ?? randomUUID();
    const timeoutMs = callOpts.timeoutMs ?? (callOpts.maxTime ? callOpts.maxTime * 1000 + 30_000 : 60_000);
    const streaming = this.streamOutput(id, onLine, { timeoutMs });
    streaming.catch(() => {}); // awaited below; avoid an unhandled rejection if call fails first
    const result = await this.call(command, a, { ...callOpts, id, stream: true, timeoutMs });
    // The agent ends the stream before it stores the result, so this returns promptly.
    await streaming;
    return result;
  }

  /**
   * Consumes `stream:<id>` (a list of 0-core stream messages, popped with BLPOP as upstream's
   * Response.stream() does) and calls onLine for each output line until the end-of-stream message;
   * resolves with whether the job succeeded. Entries are consumed: one reader per stream.
   */
  async streamOutput(
    id: string,
    onLine: (line: StreamLine) => void,
    opts: { timeoutMs?: number } = {},
  ): Promise<StreamEnd> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    return this.withBlocking(async (c, healthy) => {
      while (Date.now() < deadline) {
        const wait = Math.max(0.01, Math.min(1, (deadline - Date.now()) / 1000));
        const reply = await c.blPop(this.key(streamKey(id)), wait);
        if (!reply) continue;
        const msg = parseStreamMessage(reply.element, this.address);
        const level = msg.meta >>> 16;
        if ((msg.meta & (STREAM_EOF_SUCCESS | STREAM_EOF_ERROR)) !== 0) {
          healthy();
          return { success: (msg.meta & STREAM_EOF_SUCCESS) !== 0 };
        }
        onLine({ stream: level === 2 ? 'stderr' : 'stdout', level, line: msg.message });
      }
      healthy();
      throw new ZosError(`output stream of job ${id} on ${this.address} did not end in time`);
    });
  }

  /** core.ping; returns the agent's answer, e.g. "PONG 1.0.0". */
  async ping(opts: CallOptions = {}): Promise<string> {
    return this.callOk<string>('core.ping', undefined, { timeoutMs: 10_000, ...opts });
  }

  /** The agent's version (from core.ping). */
  async version(): Promise<string> {
    return (await this.ping()).replace(/^PONG /, '');
  }

  /** info.cpu, info.mem, info.disk, info.nic, info.os or info.version. */
  async info<T = unknown>(kind: InfoKind): Promise<T> {
    return this.callOk<T>(`info.${kind}`, undefined, { timeoutMs: 30_000 });
  }

  /** The agent's own memory, CPU time and uptime (core.state). */
  async state<T = Record<string, unknown>>(): Promise<T> {
    return this.callOk<T>('core.state', undefined, { timeoutMs: 30_000 });
  }

  /** Queued and running jobs. */
  async jobs(): Promise<JobInfo[]> {
    return this.callOk<JobInfo[]>('job.list', undefined, { timeoutMs: 30_000 });
  }

  /** All processes of the node (process.list). */
  async processes<T = unknown[]>(): Promise<T> {
    return this.callOk<T>('process.list', undefined, { timeoutMs: 30_000 });
  }

  /** Kills a job: without a signal, SIGTERM then SIGKILL (core.kill); with one, just that signal (job.kill). */
  async kill(id: string, signal?: number): Promise<void> {
    if (signal === undefined) await this.callOk('core.kill', { id }, { timeoutMs: 30_000 });
    else await this.callOk('job.kill', { id, signal }, { timeoutMs: 30_000 });
  }

  /** Subscribes to a running job's output: resolves when it ends; onLine gets its lines from now on. */
  async subscribe(jobId: string, onLine: (line: StreamLine) => void, opts: { timeoutMs?: number } = {}): Promise<void> {
    const id = randomUUID();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const streaming = this.streamOutput(id, onLine, { timeoutMs });
    streaming.catch(() => {});
    const r = await this.call('core.subscribe', { id: jobId }, { id, stream: true, timeoutMs });
    if (r.state !== 'SUCCESS') throw new AgentCommandError(r);
    await streaming;
  }

  /** Sends signal (default SIGTERM) to a process of the node (process.kill). */
  async killProcess(pid: number, signal = 15): Promise<void> {
    await this.callOk('process.kill', { pid, signal }, { timeoutMs: 30_000 });
  }

  /** Writes data to a file of the node (filesystem.open/write/close, 512 KiB per block, as upstream's client). */
  async upload(remotePath: string, data: Buffer, perm = 0o644): Promise<void> {
    const fd = await this.callOk<string>(
      'filesystem.open',
      { file: remotePath, mode: 'w', perm },
      { timeoutMs: 30_000 },
    );
    try {
      for (let off = 0; off < data.length; off += UPLOAD_BLOCK) {
        const block = data.subarray(off, off + UPLOAD_BLOCK).toString('base64');
        await this.callOk('filesystem.write', { fd, block }, { timeoutMs: 60_000 });
      }
    } finally {
      await this.callOk('filesystem.close', { fd }, { timeoutMs: 30_000 });
    }
  }

  /** Reads a file of the node (filesystem.open/read/close). */
  async download(remotePath: string): Promise<Buffer> {
    const fd = await this.callOk<string>('filesystem.open', { file: remotePath, mode: 'r' }, { timeoutMs: 30_000 });
    const parts: Buffer[] = [];
    try {
      for (;;) {
        const chunk = Buffer.from(
          await this.callOk<string>('filesystem.read', { fd }, { timeoutMs: 60_000 }),
          'base64',
        );
        if (chunk.length === 0) break;
        parts.push(chunk);
      }
    } finally {
      await this.callOk('filesystem.close', { fd }, { timeoutMs: 30_000 });
    }
    return Buffer.concat(parts);
  }

  /** Asks the node to reboot; resolves once the agent accepted (it answers before it acts). */
  async reboot(): Promise<void> {
    await this.callOk('core.reboot', undefined, { timeoutMs: 30_000 });
  }

  /** Asks the node to power off; resolves once the agent accepted. */
  async poweroff(): Promise<void> {
    await this.callOk('core.poweroff', undefined, { timeoutMs: 30_000 });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.idle.splice(0)) destroyQuietly(c);
    destroyQuietly(this.client);
  }
}
