#!/usr/bin/env node
// Runs the zos-build CLI from dist/, compiling first (tsc -b) only when a TypeScript input changed
// since the last successful compile: `npm run build-image` after no change starts in one Node process
// instead of npm + tsc + node. Plain JavaScript on purpose: it must run before anything is compiled.
//
// Never stale: the stamp lists every input (path, size, mtime) and is written only after tsc
// succeeds, so any edit, new, deleted or renamed file (or a failed compile) means tsc runs again,
// and a failed compile stops here with tsc's exit code.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const stampFile = join(root, 'dist', '.fresh-inputs.json');

/** What tsc reads: the config, the dependencies' lockfile, and every folder of tsconfig's `include`. */
function inputs() {
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  const files = ['tsconfig.json', 'package.json', 'package-lock.json', 'node_modules/.package-lock.json'];
  const dirs = [...new Set((tsconfig.include ?? []).map((p) => p.split('/')[0]))];
  const out = {};
  const add = (rel) => {
    try {
      const st = statSync(join(root, rel));
      out[rel] = `${st.size}:${st.mtimeMs}`;
    } catch {
      out[rel] = 'missing';
    }
  };
  files.forEach(add);
  const walk = (rel) => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${d.name}`;
      if (d.isDirectory()) walk(child);
      else if (/\.(ts|mts|cts|json)$/.test(d.name)) add(child);
    }
  };
  for (const d of dirs) {
    try {
      walk(d);
    } catch {
      out[d] = 'missing';
    }
  }
  return JSON.stringify(out);
}

function stamp() {
  try {
    return readFileSync(stampFile, 'utf8');
  } catch {
    return undefined;
  }
}

const before = inputs();
if (stamp() !== before) {
  rmSync(stampFile, { force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    const where = relative(process.cwd(), root) || '.';
    console.error(`error: the TypeScript compile failed (tsc -b in ${where}); nothing was run`);
    process.exit(r.status ?? 1);
  }
  // Inputs as they were when tsc started: an edit made during the compile is seen next time.
  writeFileSync(stampFile, before);
}
await import(pathToFileURL(join(root, 'dist', 'build', 'cli', 'main.js')).href);
