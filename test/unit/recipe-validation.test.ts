import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpeName } from '../../build/recipe/cpe.js';
import { validateRecipe, validateRecipeSet } from '../../build/recipe/validate.js';
import type { Recipe } from '../../build/recipe/types.js';
import { DefinitionError } from '../../build/util/errors.js';

const FILE = '/repo/recipes/demo/recipe.ts';
const SHA = 'a'.repeat(64);
const good = () => ({
  name: 'demo',
  version: '1.2.3',
  license: 'MIT',
  description: 'a demo',
  sources: [{ file: 'demo-1.2.3.tar.gz', sha256: SHA, locations: ['https://example.org/demo-1.2.3.tar.gz'] }],
  build: async () => {},
});

/** Asserts validation fails with an error naming the file and the field. */
function rejects(spec: unknown, field: string, problem: RegExp): void {
  assert.throws(
    () => validateRecipe(spec, FILE),
    (err: unknown) => {
      assert.ok(err instanceof DefinitionError, `expected DefinitionError, got ${String(err)}`);
      assert.equal(err.file, FILE);
      assert.equal(err.field, field);
      assert.match(err.message, new RegExp(`^${FILE.replace(/\//g, '\\/')}: ${field.replace(/[[\]]/g, '\\$&')}: `));
      assert.match(err.message, problem);
      return true;
    },
  );
}

describe('recipe validation', () => {
  it('accepts a complete recipe and fills defaults', () => {
    const r = validateRecipe(good(), FILE);
    assert.deepEqual(r.dependencies, []);
    assert.equal(r.file, FILE);
    assert.deepEqual(r.settings({} as never), { files: [], values: {} });
  });

  it('rejects a missing sha256', () => {
    const spec = good();
    delete (spec.sources[0] as Partial<(typeof spec.sources)[0]>).sha256;
    rejects(spec, 'sources[0].sha256', /not a sha256/);
  });

  it('rejects an invalid sha256 (uppercase, short, non-hex)', () => {
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64)]) {
      const spec = good();
      spec.sources[0]!.sha256 = bad;
      rejects(spec, 'sources[0].sha256', /64 lowercase hex/);
    }
  });

  it("checks the CPE name: the NVD's lowercase names, a version that starts the recipe's", () => {
    const ok = validateRecipe({ ...good(), cpe: { vendor: 'demo_project', product: 'demo', version: '1.2' } }, FILE);
    assert.equal(cpeName(ok), 'cpe:2.3:a:demo_project:demo:1.2:*:*:*:*:*:*:*');
    const kernel = validateRecipe(
      { ...good(), version: '6.1.1+z', provides: ['kernel'], cpe: { vendor: 'linux', product: 'linux_kernel' } },
      FILE,
    );
    assert.equal(cpeName(kernel), 'cpe:2.3:o:linux:linux_kernel:6.1.1\\+z:*:*:*:*:*:*:*');
    assert.equal(cpeName(validateRecipe(good(), FILE)), undefined);
    rejects({ ...good(), cpe: 'busybox' }, 'cpe', /must be an object/);
    rejects({ ...good(), cpe: { vendor: 'Demo', product: 'demo' } }, 'cpe.vendor', /NVD's name/);
    rejects({ ...good(), cpe: { vendor: 'demo' } }, 'cpe.product', /NVD's name/);
    rejects({ ...good(), cpe: { vendor: 'demo', product: 'demo', vendr: 'x' } }, 'cpe.vendr', /unknown field/);
    rejects(
      { ...good(), cpe: { vendor: 'demo', product: 'demo', version: '1.3' } },
      'cpe.version',
      /start of version "1.2.3"/,
    );
  });

  it('rejects a bad version string', () => {
    for (const bad of ['latest', '1.x', '', 'v1.2']) {
      const spec = { ...good(), version: bad };
      rejects(spec, 'version', bad === '' ? /required/ : /is not a version/);
    }
  });

  it('accepts real-world version strings', () => {
    for (const v of ['6.1.176', '1.35.0', '20230210-5', '1.0.0+git-20190125.36a4c85-5.1', '7.0']) {
      assert.equal(validateRecipe({ ...good(), version: v }, FILE).version, v);
    }
  });

  it('rejects a source without locations and a location that is not a URL', () => {
    const a = good();
    a.sources[0]!.locations = [];
    rejects(a, 'sources[0].locations', /at least one location/);
    const b = good();
    b.sources[0]!.locations = ['ftp://example.org/x'];
    rejects(b, 'sources[0].locations[0]', /http\(s\) URL or debian:pool/);
  });

  it('rejects a missing build function and a bad name', () => {
    rejects({ ...good(), build: undefined }, 'build', /must be a build function/);
    rejects({ ...good(), name: 'Bad_Name' }, 'name', /lowercase/);
  });
});

const recipe = (name: string, deps: string[] = []): Recipe => ({
  ...validateRecipe({ ...good(), name }, `/repo/recipes/${name}/recipe.ts`),
  dependencies: deps,
});

describe('recipe set validation', () => {
  it('rejects duplicate names naming both files', () => {
    const a = recipe('x');
    const b = { ...recipe('x'), file: '/repo/recipes/other/recipe.ts' };
    assert.throws(
      () => validateRecipeSet([a, b]),
      /\/repo\/recipes\/other\/recipe\.ts: name: "x" is already defined by \/repo\/recipes\/x\/recipe\.ts/,
    );
  });

  it('rejects an unknown dependency, listing the known recipes', () => {
    assert.throws(
      () => validateRecipeSet([recipe('a', ['nope']), recipe('b')]),
      /recipes\/a\/recipe\.ts: dependencies: unknown recipe "nope" \(known: a, b\)/,
    );
  });

  it('rejects a cycle and prints it', () => {
    assert.throws(
      () => validateRecipeSet([recipe('a', ['b']), recipe('b', ['c']), recipe('c', ['a'])]),
      /dependency cycle: a -> b -> c -> a/,
    );
  });

  it('accepts a DAG', () => {
    const set = validateRecipeSet([recipe('a', ['b', 'c']), recipe('b', ['c']), recipe('c')]);
    assert.deepEqual([...set.keys()], ['a', 'b', 'c']);
  });
});

describe('recipe validation: hostile or sloppy fields (issue 12)', () => {
  it('checks the license as an SPDX expression', () => {
    for (const ok of [
      'MIT',
      'GPL-2.0-only OR MIT',
      'GPL-2.0-only WITH Linux-syscall-note',
      'LicenseRef-Redistributable-Firmware',
    ]) {
      assert.equal(validateRecipe({ ...good(), license: ok }, FILE).license, ok);
    }
    rejects({ ...good(), license: 'Foo' }, 'license', /not a valid SPDX license expression/);
    rejects({ ...good(), license: 'MIT AND' }, 'license', /not a valid SPDX license expression/);
    rejects({ ...good(), license: 'GPL-2.0' }, 'license', /deprecated SPDX identifier GPL-2.0/);
  });

  it('refuses unknown (misspelt) fields at the top level and in sources', () => {
    rejects({ ...good(), licenceFiles: ['COPYING'] }, 'licenceFiles', /unknown field \(known: .*licenseFiles/);
    const spec = good();
    (spec.sources[0] as Record<string, unknown>).stripComponent = 2;
    rejects(spec, 'sources[0].stripComponent', /unknown field/);
  });

  it('takes yes/no fields as booleans only (mounted, stampsProjectVersion)', () => {
    assert.equal(validateRecipe(good(), FILE).mounted, false, 'unpacked by the kernel unless said');
    assert.equal(validateRecipe({ ...good(), mounted: true }, FILE).mounted, true);
    rejects({ ...good(), mounted: 'yes' }, 'mounted', /must be true or false, not "yes"/);
    rejects({ ...good(), stampsProjectVersion: 1 }, 'stampsProjectVersion', /must be true or false/);
  });

  it('refuses a stripComponents that is not a small non-negative integer', () => {
    for (const bad of [-1, 1.5, 1000, '1']) {
      const spec = good();
      (spec.sources[0] as Record<string, unknown>).stripComponents = bad;
      rejects(spec, 'sources[0].stripComponents', /integer from 0 to 8/);
    }
    const spec = good();
    (spec.sources[0] as Record<string, unknown>).stripComponents = 0;
    assert.equal(validateRecipe(spec, FILE).sources[0]!.stripComponents, 0);
  });

  it('follows the documented version grammar', () => {
    for (const v of [
      '1.35.0',
      '7.0.15',
      '2.39.2',
      '20230210',
      '1.0.0+git-20190125.36a4c85',
      '6.03',
      '1.1.1w',
      '1.2.3.4',
      '2.0~rc1',
    ]) {
      assert.equal(validateRecipe({ ...good(), version: v }, FILE).version, v);
    }
    for (const v of ['1.2.3.4.5.6', '1.2.', '1..2', '1.2-', '1.2+', `1.${'9'.repeat(70)}`, '1.2 3']) {
      rejects({ ...good(), version: v }, 'version', /is not a version/);
    }
  });
});
