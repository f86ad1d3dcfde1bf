import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
import { homedir } from 'node:os';

/** `dist/` (compiled JavaScript) sits inside the repository; everything else is found from there. */
export const distDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(distDir, '..');

/** The compiled module of a TypeScript file in the repository. */
export function compiledPath(tsFile: string): string {
  return join(distDir, relative(repoDir, tsFile)).replace(/\.ts$/, '.js');
}

export function defaultCacheDir(): string {
  if (process.env.ZOS_CACHE_DIR) return resolve(process.env.ZOS_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'zos-build');
}

export function repoRelative(path: string): string {
  return relative(repoDir, path);
}
