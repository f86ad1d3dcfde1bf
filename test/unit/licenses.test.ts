import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SourceStore } from '../../build/cache/source-store.js';
import { defaultFetchOptions } from '../../build/fetch/fetch-source.js';
import { recipeStep } from '../../build/recipe/step.js';
import { validateRecipe } from '../../build/recipe/validate.js';
import { StepLog } from '../../build/util/exec.js';
import { imageTmpDir } from '../helpers/image-tools.js';
import { rawTar, type RawTarEntry } from '../helpers/tar-raw.js';

/**
 * License files are copied from the extracted source tree into the step's legal/ output, which
 * ends up in releases and the remote cache: a source tarball must not be able to smuggle host
 * files (LICENSE -> /etc/passwd) in there.
 */

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => ({ dir, cleanup } = await imageTmpDir('licenses')));
after(() => cleanup());

/** Runs the generic recipe step (extract, no-op build, licenses) on a tarball made of `entries`. */
async function buildWith(name: string, entries: RawTarEntry[], licenseFiles: string[]): Promise<string> {
  const tar = rawTar([{ path: 'pkg-1.0/', type: '5' }, ...entries]);
  const sha256 = createHash('sha256').update(tar).digest('hex');
  const sources = new SourceStore(join(dir, name, 'sources'));
  await mkdir(sources.dir, { recursive: true });
  await writeFile(sources.pathOf(sha256), tar);
  const recipe = validateRecipe(
    {
      name: 'demo',
      version: '1.0',
      license: 'MIT',
      licenseFiles,
      description: 'demo',
      sources: [{ file: 'pkg-1.0.tar', sha256, locations: ['https://example.invalid/pkg-1.0.tar'] }],
      build: async () => {},
    },
    join(dir, 'recipe.ts'),
  );
  const env = {
    profile: {} as never,
    version: '1',
    epoch: 1,
    sources,
    fetch: { ...defaultFetchOptions, offline: true, mirrors: [], debianArchive: 'http://127.0.0.1:9' },
    hostTools: {} as never,
  };
  const outDir = join(dir, name, 'out');
  const workDir = join(dir, name, 'work');
  await mkdir(outDir, { recursive: true });
  await mkdir(workDir, { recursive: true });
  const log = await StepLog.create(join(dir, name, 'step.log'));
  try {
    await recipeStep(recipe, env).run({
      outDir,
      workDir,
      depOutputs: new Map(),
      fingerprint: 'f',
      jobs: 1,
      log,
      signal: new AbortController().signal,
    });
  } finally {
    log.close();
  }
  return outDir;
}

describe('license files', () => {
  it('copies a regular license file from the source tree', async () => {
    const out = await buildWith('ok', [{ path: 'pkg-1.0/COPYING', type: '0', data: 'license text\n' }], ['COPYING']);
    assert.deepEqual(await readdir(join(out, 'legal', 'demo')), ['COPYING']);
  });

  it('refuses a license file that is a symlink to a host file', async () => {
    await assert.rejects(
      buildWith('abs-link', [{ path: 'pkg-1.0/LICENSE', type: '2', linkpath: '/etc/passwd' }], ['LICENSE']),
      /licenseFiles entry LICENSE .*not a regular file/,
    );
    assert.ok(!(await readdir(join(dir, 'abs-link', 'out'))).includes('legal'), 'nothing copied into legal/');
  });

  it('refuses a license file reached through a symlinked directory', async () => {
    await assert.rejects(
      buildWith('dir-link', [{ path: 'pkg-1.0/doc', type: '2', linkpath: '/etc' }], ['doc/passwd']),
      /licenseFiles entry doc\/passwd .*symlink/,
    );
  });

  it('rejects licenseFiles entries that are not plain relative paths', () => {
    const base = { name: 'demo', version: '1.0', license: 'MIT', description: 'd', build: async () => {} };
    for (const bad of [['/etc/passwd'], ['../x'], ['a/../../b'], [''], 'COPYING', [3]]) {
      assert.throws(
        () => validateRecipe({ ...base, licenseFiles: bad }, '/r/recipe.ts'),
        /\/r\/recipe\.ts: licenseFiles/,
      );
    }
  });
});
