import { stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { repoDir } from '../paths.js';
import { ZosError } from '../util/errors.js';
import { exists, writeFileAtomic } from '../util/fs.js';
import { sha256Tree } from '../util/hash.js';
import { readFile } from 'node:fs/promises';

/**
 * Hashes of repository files and folders a step reads (recipe files, kernel fragments, the overlay,
 * the agent's source). Memoised per process: several steps often read the same file.
 */
const treeHashes = new Map<string, Promise<string>>();

export function repoFileHash(relPath: string): Promise<string> {
  let h = treeHashes.get(relPath);
  if (!h) {
    const abs = join(repoDir, relPath);
    h = exists(abs).then((ok) => {
      if (!ok) throw new ZosError(`${relPath} does not exist (read by the build)`);
      return sha256Tree(abs);
    });
    treeHashes.set(relPath, h);
  }
  return h;
}

export async function repoFilesHashes(relPaths: readonly string[]): Promise<Record<string, string>> {
  const sorted = [...new Set(relPaths)].sort();
  const hashes = await Promise.all(sorted.map(repoFileHash));
  return Object.fromEntries(sorted.map((p, i) => [p, hashes[i]!]));
}

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g;

/**
 * A TypeScript module and every repository module it imports, transitively (relative imports only),
 * as repo-relative paths. A recipe's fingerprint includes the code that builds it, and only that
 * code: editing the kernel's build step rebuilds the kernel, not redis.
 */
export async function importClosure(relFile: string): Promise<string[]> {
  const seen = new Set<string>();
  const visit = async (rel: string): Promise<void> => {
    if (seen.has(rel)) return;
    seen.add(rel);
    await Promise.all((await importsOf(rel)).map(visit));
  };
  await visit(relFile);
  return [...seen].sort();
}

/** Each module's direct imports, read once per process: the recipes share most of their build code. */
const directImports = new Map<string, Promise<string[]>>();

function importsOf(rel: string): Promise<string[]> {
  let found = directImports.get(rel);
  if (!found) {
    found = readFile(join(repoDir, rel), 'utf8').then((text) =>
      [...text.matchAll(IMPORT_RE)].map((m) => relative(repoDir, resolve(dirname(join(repoDir, rel)), `${m[1]!}.ts`))),
    );
    directImports.set(rel, found);
  }
  return found;
}

/**
 * Versions of host tools that shape an output (gcc, go, make...). Asking each tool costs a process
 * spawn, too slow for a no-op build, so answers are remembered on disk per binary (path, size, mtime):
 * upgrading a tool changes its binary and so its entry.
 */
/** Tools that do not answer `--version` (mksquashfs prints its usage instead). */
const VERSION_FLAGS: Readonly<Record<string, readonly string[]>> = { go: ['version'], mksquashfs: ['-version'] };

export class HostToolVersions {
  private memo: Record<string, { key: string; version: string }> = {};
  /** Loaded once, even when many steps ask at the same time. */
  private loading?: Promise<void>;
  /** Each tool is looked up once per process, however many recipes use it. */
  private readonly asked = new Map<string, Promise<string>>();
  private dirty = false;

  constructor(private readonly file: string) {}

  async versions(tools: readonly string[]): Promise<Record<string, string>> {
    this.loading ??= this.load();
    await this.loading;
    const sorted = [...new Set(tools)].sort();
    const out: Record<string, string> = {};
    for (const tool of sorted) {
      if (!this.asked.has(tool)) this.asked.set(tool, this.version(tool));
      out[tool] = await this.asked.get(tool)!;
    }
    return out;
  }

  private async load(): Promise<void> {
    try {
      this.memo = JSON.parse(await readFile(this.file, 'utf8')) as typeof this.memo;
    } catch {
      this.memo = {};
    }
  }

  private async version(tool: string): Promise<string> {
    const path = await which(tool);
    if (!path)
      throw new ZosError(
        `host tool ${tool} is not installed`,
        'Run `zos-build doctor` for the apt-get line that installs it.',
      );
    const st = await stat(path);
    // "2:": answers remembered before the first non-empty line was taken (perl's '') are asked again.
    const key = `2:${path}:${st.size}:${st.mtimeMs}`;
    const hit = this.memo[tool];
    if (hit?.key === key) return hit.version;
    const flag = VERSION_FLAGS[tool] ?? ['--version'];
    const { $ } = await import('zx');
    const res = await $({ quiet: true, nothrow: true, verbose: false })`${path} ${flag}`;
    // The first non-empty line: perl's --version starts with an empty one.
    const version =
      `${res.stdout}${res.stderr}`
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '') ?? '';
    this.memo[tool] = { key, version };
    this.dirty = true;
    return version;
  }

  async save(): Promise<void> {
    if (this.dirty) await writeFileAtomic(this.file, JSON.stringify(this.memo, null, 1));
    this.dirty = false;
  }
}

const PATH_DIRS = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter(Boolean);

export async function which(tool: string): Promise<string | undefined> {
  if (tool.includes('/')) return (await exists(tool)) ? tool : undefined;
  for (const dir of PATH_DIRS) {
    const p = join(dir, tool);
    if (await exists(p)) return p;
  }
  return undefined;
}
