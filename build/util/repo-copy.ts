import { spawn } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { repoDir } from '../paths.js';
import { exists } from './fs.js';

/** What a copy of the checkout leaves out: installed packages and build results. */
const NOT_COPIED = new Set(['node_modules', 'out', '.zos-cache', 'release']);

/**
 * A second checkout of this repository at `dest`: the same files (git metadata and compiled dist/
 * too) in another directory, with node_modules linked. Builds from it find the same inputs.
 */
export async function copyRepo(dest: string): Promise<void> {
  await cp(repoDir, dest, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => !NOT_COPIED.has(src.slice(repoDir.length + 1).split('/')[0]!),
  });
  await symlink(join(repoDir, 'node_modules'), join(dest, 'node_modules'));
}

/**
 * Starts the download cache `to` with the files of `from`. Downloads are content-addressed and
 * sha256-checked, so sharing them hides nothing; hard links when possible, copies otherwise.
 */
export async function seedSources(from: string, to: string): Promise<void> {
  if (!(await exists(from))) return;
  await mkdir(to, { recursive: true });
  const linked = await new Promise<boolean>((res) => {
    const c = spawn('cp', ['-al', `${from}/.`, to], { stdio: 'ignore' });
    c.on('error', () => res(false));
    c.on('close', (code) => res(code === 0));
  });
  if (!linked) await cp(from, to, { recursive: true });
}
