/**
 * Outbound mode (docs/protocol.md): a node with `zos.mgmt=rediss://HOST:PORT` dials a management Redis,
 * logs in as the ACL user `node-<id>` with a secret it generated at boot, and serves its queue under the
 * key prefix `node:<id>:`. This module parses management URLs and admits nodes (ACL SETUSER); the
 * AgentClient drives an admitted node through the same Redis with `namespace: nodeNamespace(id)`.
 */
import { createClient } from 'redis';
import { ZosError, errorMessage } from '../util/errors.js';
import { parsePin, pinTls } from './tls-pin.js';
import type { ConnectOptions } from './types.js';

/** What a node's ACL user may run (AUTH is always allowed); keep in step with agent/internal/outbound. */
export const NODE_ACL_COMMANDS = ['ping', 'blpop', 'rpush', 'expire', 'ltrim'] as const;

/** The key prefix of node `id` on the management Redis. */
export const nodeNamespace = (id: string): string => `node:${id}:`;

/** The node's ACL user name. */
export const nodeUser = (id: string): string => `node-${id}`;

/** A node id is its host name (RFC 1123, no glob characters: it becomes an ACL key pattern). */
export function checkNodeId(id: string): string {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/.test(id) || id.includes('..')) {
    throw new ZosError(
      `--node ${JSON.stringify(id)}: not a node id`,
      'Use the node= value of the console line "outbound identity node=... sha256=...".',
    );
  }
  return id;
}

/**
 * `ACL SETUSER` admitting node `id` whose boot secret hashes to `sha256hex`: only its own keys, no
 * channels, only NODE_ACL_COMMANDS. `reset` first, so re-admitting after a reboot replaces the old hash.
 */
export function aclSetUser(id: string, sha256hex: string): string[] {
  checkNodeId(id);
  if (!/^[0-9a-f]{64}$/i.test(sha256hex)) {
    throw new ZosError(
      `--sha256 ${JSON.stringify(sha256hex)}: expected 64 hex digits`,
      'Use the sha256= value of the node\'s console line "outbound identity node=... sha256=...".',
    );
  }
  return [
    'ACL',
    'SETUSER',
    nodeUser(id),
    'reset',
    'on',
    `#${sha256hex.toLowerCase()}`,
    `~${nodeNamespace(id)}*`,
    'resetchannels',
    '-@all',
    ...NODE_ACL_COMMANDS.map((c) => `+${c}`),
  ];
}

export interface MgmtTarget {
  host: string;
  port: number;
  tls: boolean;
}

/** rediss://HOST[:PORT] (redis:// only when `insecure`); credentials go in options, never in the URL. */
export function parseMgmtUrl(raw: string, insecure = false): MgmtTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ZosError(`--mgmt ${JSON.stringify(raw)}: not a URL like rediss://HOST:PORT`);
  }
  if (u.protocol !== 'rediss:' && !(insecure && u.protocol === 'redis:')) {
    throw new ZosError(
      `--mgmt ${JSON.stringify(raw)}: the management Redis is reached over TLS: use rediss://HOST:PORT`,
    );
  }
  if (u.username || u.password || (u.pathname !== '' && u.pathname !== '/') || u.search) {
    throw new ZosError(
      `--mgmt ${JSON.stringify(raw)}: only rediss://HOST:PORT is accepted`,
      'Pass the operator account with --mgmt-user and --mgmt-password (or $ZOS_MGMT_PASSWORD).',
    );
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
  };
}

export interface MgmtOptions {
  /** rediss://HOST:PORT of the management Redis. */
  mgmt: string;
  /** sha256:<hex> of the management Redis certificate (required for rediss://). */
  pin?: string;
  /** Operator account on the management Redis (default user "default"). */
  user?: string;
  password?: string;
  connectTimeoutMs?: number;
}

/** ConnectOptions for an AgentClient that drives node `id` through the management Redis. */
export async function mgmtConnectOptions(o: MgmtOptions, id?: string): Promise<ConnectOptions> {
  const t = parseMgmtUrl(o.mgmt);
  if (t.tls && !o.pin) {
    throw new ZosError(
      `--mgmt ${o.mgmt}: no --pin given`,
      'Pass --pin sha256:<hex> of the management Redis certificate (openssl x509 -noout -fingerprint -sha256).',
    );
  }
  return {
    host: t.host,
    port: t.port,
    username: o.user,
    token: o.password,
    tls: t.tls && o.pin ? { pin: parsePin(o.pin) } : false,
    namespace: id === undefined ? undefined : nodeNamespace(checkNodeId(id)),
    label: id === undefined ? o.mgmt : `node ${id} via ${o.mgmt}`,
    authHint: 'Check --mgmt-user and --mgmt-password ($ZOS_MGMT_PASSWORD) against the management Redis ACL.',
    connectTimeoutMs: o.connectTimeoutMs,
  };
}

/** A connected node-redis client on the management Redis as the operator (admission, inspection). */
export async function mgmtRedis(o: MgmtOptions): Promise<ReturnType<typeof createClient>> {
  const c = await mgmtConnectOptions(o);
  const timeout = c.connectTimeoutMs ?? 5000;
  const pinned = c.tls ? await pinTls(c.host, c.port, c.tls.pin && parsePin(c.tls.pin), timeout) : undefined;
  const client = createClient({
    socket: {
      host: c.host,
      port: c.port,
      connectTimeout: timeout,
      reconnectStrategy: false,
      ...(pinned ? { tls: true as const, ...pinned.options } : {}),
    },
    username: c.username,
    password: typeof c.token === 'string' ? c.token : undefined,
    disableOfflineQueue: true,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    closeQuietly(client);
    throw new ZosError(`cannot log in to the management Redis ${o.mgmt}: ${errorMessage(err)}`, c.authHint);
  }
  return client;
}

function closeQuietly(client: ReturnType<typeof createClient>): void {
  try {
    client.destroy();
  } catch {
    // already closed
  }
}

/** Runs ACL SETUSER for node `id` on the management Redis; returns the command as run (for the log). */
export async function admitNode(o: MgmtOptions, id: string, sha256hex: string): Promise<string[]> {
  const args = aclSetUser(id, sha256hex);
  const client = await mgmtRedis(o);
  try {
    await client.sendCommand(args);
  } catch (err) {
    throw new ZosError(`admitting node ${id} on ${o.mgmt} failed: ${errorMessage(err)}`);
  } finally {
    closeQuietly(client);
  }
  return args;
}
