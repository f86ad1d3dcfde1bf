import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyPatches } from '../../build/recipe/patches.js';
import { providerOf } from '../../build/recipe/roles.js';
import type { Recipe } from '../../build/recipe/types.js';
import { validateRecipe } from '../../build/recipe/validate.js';
import { globToRegExp } from '../../build/steps/glob.js';
import { splitStage } from '../../build/steps/sysroot.js';
import { DefinitionError, ZosError } from '../../build/util/errors.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zos-recipe-infra-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const SHA = 'b'.repeat(64);
const spec = (extra: Record<string, unknown> = {}) => ({
  name: 'demo',
  version: '1.2.3',
  license: 'MIT',
  description: 'a demo',
  build: async () => {},
  sources: [
    {
      file: 'demo_${version}.orig.tar.gz',
      sha256: SHA,
      locations: ['debian:pool/main/d/demo/demo_${version}.orig.tar.gz'],
    },
  ],
  ...extra,
});

async function files(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true }).catch(() => [])) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await files(root, r)));
    else out.push(r);
  }
  return out.sort();
}

describe('recipe fields of the userland infrastructure', () => {
  it('replaces ${version} in source file names and locations', () => {
    const r = validateRecipe(spec(), '/x/recipes/demo/recipe.ts');
    assert.equal(r.sources[0]!.file, 'demo_1.2.3.orig.tar.gz');
    assert.deepEqual(r.sources[0]!.locations, ['debian:pool/main/d/demo/demo_1.2.3.orig.tar.gz']);
  });

  it('rejects a patch that is not in the recipe folder, and an unknown role, naming the field', async () => {
    const recipeDir = join(dir, 'recipes/demo');
    await mkdir(recipeDir, { recursive: true });
    const file = join(recipeDir, 'recipe.ts');
    assert.throws(
      () => validateRecipe(spec({ patches: ['0001-missing.patch'] }), file),
      (e: unknown) =>
        e instanceof DefinitionError &&
        e.field === 'patches[0]' &&
        /0001-missing\.patch does not exist/.test(e.message),
    );
    assert.throws(
      () => validateRecipe(spec({ patches: ['../escape.patch'] }), file),
      (e: unknown) => e instanceof DefinitionError && e.field === 'patches[0]',
    );
    assert.throws(
      () => validateRecipe(spec({ provides: ['kernal'] }), file),
      (e: unknown) =>
        e instanceof DefinitionError && e.field === 'provides[0]' && /known: kernel, kernel-headers/.test(e.message),
    );
    assert.throws(
      () => validateRecipe(spec({ sources: [{ ...spec().sources[0], kind: 'rpm' }] }), file),
      (e: unknown) => e instanceof DefinitionError && e.field === 'sources[0].kind',
    );
  });

  it('applies patches in order with the real patch tool, and fails on one that does not apply', async () => {
    const recipeDir = join(dir, 'recipes/patched');
    const src = join(dir, 'patched-src');
    await mkdir(recipeDir, { recursive: true });
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'hello.c'), 'int x = 1;\n');
    await writeFile(
      join(recipeDir, '0001-two.patch'),
      '--- a/hello.c\n+++ b/hello.c\n@@ -1 +1 @@\n-int x = 1;\n+int x = 2;\n',
    );
    await writeFile(
      join(recipeDir, '0002-three.patch'),
      '--- a/hello.c\n+++ b/hello.c\n@@ -1 +1 @@\n-int x = 2;\n+int x = 3;\n',
    );
    const file = join(recipeDir, 'recipe.ts');
    const run = async (cmd: string, args: string[]) => void execFileSync(cmd, args, { stdio: 'pipe' });
    const recipe = validateRecipe(spec({ name: 'patched', patches: ['0001-two.patch', '0002-three.patch'] }), file);
    await applyPatches(recipe, src, run);
    assert.equal(await readFile(join(src, 'hello.c'), 'utf8'), 'int x = 3;\n');
    // Applying again: the first patch no longer applies, and that is an error, not a silent skip.
    await assert.rejects(applyPatches(recipe, src, run));
  });
});

describe('roles', () => {
  const recipe = (name: string, provides: string[]) =>
    ({ name, provides, file: `/r/${name}/recipe.ts` }) as unknown as Recipe;
  const profile = (packages: string[]) => ({ name: 'demo', file: '/repo/config/demo.ts', packages });
  it('finds the one provider, or the one the profile lists, and names the profile otherwise', () => {
    const one = new Map([
      ['linux', recipe('linux', ['kernel'])],
      ['busybox', recipe('busybox', [])],
    ]);
    assert.equal(providerOf('kernel', profile([]), one).name, 'linux');
    assert.throws(
      () => providerOf('bootloader', profile([]), one),
      (e: unknown) => e instanceof ZosError && /profile demo needs a recipe that provides "bootloader"/.test(e.message),
    );
    const two = new Map([...one, ['linux-lts', recipe('linux-lts', ['kernel'])]]);
    assert.throws(
      () => providerOf('kernel', profile([]), two),
      (e: unknown) =>
        e instanceof ZosError &&
        /profile demo: several recipes provide "kernel": linux, linux-lts/.test(e.message) &&
        /config\/demo\.ts/.test(e.hint ?? ''),
    );
    assert.equal(providerOf('kernel', profile(['linux-lts']), two).name, 'linux-lts');
  });
});

describe('staged install split', () => {
  it('matches keep/drop globs', () => {
    assert.ok(globToRegExp('usr/sbin/*').test('usr/sbin/mkfs.ext4'));
    assert.ok(!globToRegExp('usr/sbin/*').test('usr/sbin/x/y'));
    assert.ok(globToRegExp('usr/share/**').test('usr/share/man/man8/x.8'));
    assert.ok(globToRegExp('**/*.a').test('usr/lib/libz.a'));
    assert.ok(globToRegExp('**/*.a').test('libz.a'));
  });

  it('sends headers, static libs and .pc files to the sysroot and keeps only the selected image files', async () => {
    const stage = join(dir, 'stage');
    const installed = [
      'usr/include/z.h',
      'usr/lib/libz.a',
      'usr/lib/libz.la',
      'usr/lib/pkgconfig/zlib.pc',
      'usr/sbin/tool',
    ];
    for (const f of [...installed, 'usr/sbin/other', 'usr/share/man/man8/tool.8']) {
      await mkdir(join(stage, f, '..'), { recursive: true });
      await writeFile(join(stage, f), f);
    }
    const sysroot = join(dir, 'sysroot');
    const rootfs = join(dir, 'rootfs');
    const kept = await splitStage(stage, sysroot, rootfs, {
      keep: ['usr/sbin/*'],
      drop: ['usr/sbin/other'],
      recipe: 'demo',
    });
    assert.deepEqual(kept, ['usr/sbin/tool']);
    assert.deepEqual(await files(rootfs), ['usr/sbin/tool']);
    assert.deepEqual(await files(sysroot), ['usr/include/z.h', 'usr/lib/libz.a', 'usr/lib/pkgconfig/zlib.pc']);
  });

  it('fails when a keep glob matches nothing, naming the recipe and the glob', async () => {
    const stage = join(dir, 'stage2');
    await mkdir(join(stage, 'usr/bin'), { recursive: true });
    await writeFile(join(stage, 'usr/bin/a'), 'a');
    const split = splitStage(stage, join(dir, 's2'), join(dir, 'r2'), { keep: ['usr/sbin/mkfs.ext4'], recipe: 'demo' });
    await assert.rejects(
      split,
      (e: unknown) =>
        e instanceof ZosError && /recipe demo: keep "usr\/sbin\/mkfs\.ext4" matched no installed file/.test(e.message),
    );
  });
});
