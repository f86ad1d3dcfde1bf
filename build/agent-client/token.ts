/**
 * Tokens: what a client sends as its Redis AUTH password to a node's management port. A JWT signed with
 * EdDSA (Ed25519) by an operator key; claims `aud` (the node's host name, e.g. `zos-525400123456`, or
 * `farm:<farmer_id>`), `iat`, `exp` and optionally `sub` (who). The node checks signature, expiry (and
 * refuses lifetimes over 24 h) and audience (docs/protocol.md, "Authentication").
 */
import { type KeyObject, sign } from 'node:crypto';
import { ZosError } from '../util/errors.js';

/** The longest lifetime a node accepts (agent/internal/gate/jwt.go MaxLifetime). */
export const MAX_TTL_S = 24 * 3600;

export interface TokenClaims {
  /** The node's host name, or `farm:<id>` for every node of a farm; several allowed. */
  aud: string | string[];
  /** Lifetime in seconds. */
  ttlS: number;
  sub?: string;
  /** Seconds since the epoch (default: now); for tests of expired tokens. */
  now?: number;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Signs a token with `key` (an Ed25519 private key). */
export function mintToken(key: KeyObject, c: TokenClaims): string {
  const now = c.now ?? Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }));
  const claims: Record<string, unknown> = { aud: c.aud, iat: now, exp: now + c.ttlS };
  if (c.sub !== undefined) claims.sub = c.sub;
  const signed = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${b64url(sign(null, Buffer.from(signed), key))}`;
}

/** The audience a node accepts for `--node` / `--farm`. */
export function audienceOf(o: { node?: string; farm?: string }): string[] {
  const aud: string[] = [];
  if (o.node) aud.push(o.node);
  if (o.farm) aud.push(`farm:${o.farm}`);
  return aud;
}

/** Parses a lifetime: `90` or `90s`, `10m`, `2h`; at most 24 h. `option` names it in errors. */
export function parseTtl(s: string | number, option = '--ttl'): number {
  const m = /^(\d+)([smh]?)$/.exec(String(s).trim());
  if (!m) throw new ZosError(`${option} ${s}: not a duration`, 'Use seconds or a unit: 90s, 10m, 2h.');
  const secs = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (secs <= 0 || secs > MAX_TTL_S) {
    throw new ZosError(`${option} ${s}: must be between 1 s and 24 h`, 'Nodes refuse longer-lived tokens.');
  }
  return secs;
}
