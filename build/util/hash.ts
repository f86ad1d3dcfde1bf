import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** JSON with sorted keys, so that equal values always hash equally whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function sha256Json(value: unknown): string {
  return sha256(stableJson(value));
}

/**
 * Hash of a file or directory tree: relative paths, types, the executable bit, link targets and
 * contents. Timestamps and owners are left out on purpose: they do not change what gets built.
 */
export async function sha256Tree(root: string): Promise<string> {
  const hash = createHash('sha256');
  async function visit(abs: string, rel: string): Promise<void> {
    const st = await lstat(abs);
    if (st.isSymbolicLink()) {
      hash.update(`L ${rel} ${await readlink(abs)}\0`);
    } else if (st.isDirectory()) {
      hash.update(`D ${rel}\0`);
      const names = (await readdir(abs)).sort();
      for (const name of names) await visit(join(abs, name), rel ? `${rel}/${name}` : name);
    } else {
      const exec = (st.mode & 0o111) !== 0 ? 'x' : '-';
      hash.update(`F ${rel} ${exec} ${st.size}\0`);
      hash.update(await readFile(abs));
    }
  }
  await visit(root, '');
  return hash.digest('hex');
}
