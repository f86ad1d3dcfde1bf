import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoDir } from '../../build/paths.js';

const validator = join(repoDir, 'node_modules/.bin/action-validator');
const workflowDir = join(repoDir, '.github/workflows');

function validate(file: string) {
  return spawnSync(validator, [file], { encoding: 'utf8' });
}

test('every workflow validates against the GitHub Actions workflow schema (action-validator), which rejects a broken one', async () => {
  const files = (await readdir(workflowDir)).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 0, 'no workflow in .github/workflows');
  for (const f of files) {
    const r = validate(join(workflowDir, f));
    assert.equal(
      r.error,
      undefined,
      `cannot run ${validator} (devDependency @action-validator/cli): ${String(r.error)}`,
    );
    assert.equal(r.status, 0, `${f}:\n${r.stdout}\n${r.stderr}`);
  }
  // The same check on a workflow with a misspelt key must fail, or the test proves nothing.
  const dir = await mkdtemp(join(tmpdir(), 'zos-wf-'));
  try {
    const broken = (await readFile(join(workflowDir, 'ci.yml'), 'utf8')).replace('runs-on:', 'run-on:');
    await writeFile(join(dir, 'broken.yml'), broken);
    assert.notEqual(validate(join(dir, 'broken.yml')).status, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the workflow runs the ci/ scripts: tests through .ci/run, the release through ci/release on v* tags', async () => {
  const wf = await readFile(join(workflowDir, 'ci.yml'), 'utf8');
  assert.match(wf, /run: bash \.ci\/run/);
  assert.match(wf, /run: bash ci\/release release\//);
  assert.match(wf, /tags: \["v\*"\]/);
  assert.match(wf, /startsWith\(github\.ref, 'refs\/tags\/v'\)/);
  assert.match(wf, /image: debian:bookworm/);
  assert.match(wf, /actions\/cache@v4/);
  for (const m of wf.matchAll(/bash (\.?ci\/[\w-]+)/g)) {
    const script = join(repoDir, m[1]!);
    const r = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${m[1]} is missing or not valid bash: ${r.stderr}`);
  }
});

test('ci/release refuses to run without a destination', () => {
  const r = spawnSync('bash', [join(repoDir, 'ci/release')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: ci\/release DEST/);
});
