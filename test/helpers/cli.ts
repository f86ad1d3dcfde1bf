import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoDir } from '../../build/paths.js';
import { copyRepo } from '../../build/util/repo-copy.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the compiled `zos-build` of `repo` (default: this checkout) and collects its output. */
export function zosBuild(
  args: string[],
  opts: { repo?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const repo = opts.repo ?? repoDir;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'dist/build/cli/main.js'), ...args], {
      cwd: repo,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * A private copy of the repository (sources, recipes, config, overlay, compiled dist/ and a link to
 * node_modules) that a test may edit without touching the checkout. Builds in it share the cache.
 */
export async function repoCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zos-repo-'));
  await copyRepo(dir);
  await mkdir(join(dir, 'out'), { recursive: true });
  return dir;
}
