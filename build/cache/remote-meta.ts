import { SHA256_RE } from '../util/hash.js';

/**
 * `<fingerprint>.json` next to `<fingerprint>.tar` on the remote cache: what the tar must hash to.
 * Uploaded after the tar, so a reader that finds it knows the tar was complete at that moment.
 */
export interface RemoteEntryMeta {
  fingerprint: string;
  /** sha256 of the tar file. */
  sha256: string;
  /** Size of the tar file in bytes. */
  size: number;
  format: 1;
}

export const REMOTE_FORMAT = 1;

/** Parses and checks a metadata document for `fingerprint`; throws saying what is wrong. */
export function parseMeta(text: string, fingerprint: string): RemoteEntryMeta {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('metadata is not JSON');
  }
  const m = (v ?? {}) as Partial<Record<keyof RemoteEntryMeta, unknown>>;
  if (m.format !== REMOTE_FORMAT)
    throw new Error(`metadata format ${JSON.stringify(m.format)} is not ${REMOTE_FORMAT}`);
  if (m.fingerprint !== fingerprint) throw new Error(`metadata is for fingerprint ${JSON.stringify(m.fingerprint)}`);
  if (typeof m.sha256 !== 'string' || !SHA256_RE.test(m.sha256)) throw new Error('metadata has no valid sha256');
  if (typeof m.size !== 'number' || !Number.isSafeInteger(m.size) || m.size < 0)
    throw new Error('metadata has no valid size');
  return { fingerprint, sha256: m.sha256, size: m.size, format: REMOTE_FORMAT };
}

export function formatMeta(meta: RemoteEntryMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}
