import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkImageElves, findMissingDeps, parseElfDeps } from '../../build/image/elf.js';
import { collectRootfs } from '../../build/image/rootfs.js';
import { ZosError } from '../../build/util/errors.js';

// Real binaries from the real compilers: a static musl one (what every recipe builds) and a dynamic
// glibc one (what leaks in when a build escapes the toolchain).
let dir = '';
let staticBin = '';
let dynamicBin = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zos-elf-'));
  await writeFile(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
  staticBin = join(dir, 'hello-static');
  dynamicBin = join(dir, 'hello-dynamic');
  execFileSync('musl-gcc', ['-static', '-Os', '-o', staticBin, join(dir, 'hello.c')]);
  execFileSync('gcc', ['-o', dynamicBin, join(dir, 'hello.c'), '-Wl,-rpath,$ORIGIN/../lib']);
});
after(() => rm(dir, { recursive: true, force: true }));

async function image(files: Record<string, string | { link: string }>): Promise<string> {
  const root = await mkdtemp(join(dir, 'root-'));
  for (const [rel, src] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    if (typeof src === 'string') await writeFile(join(root, rel), await readFile(src));
    else await symlink(src.link, join(root, rel));
  }
  return root;
}

describe('ELF dependency check of the image', () => {
  it('parses PT_INTERP, DT_NEEDED and RUNPATH of a host binary, and nothing for a static one', async () => {
    const dyn = parseElfDeps(await readFile(dynamicBin))!;
    assert.equal(dyn.interp, '/lib64/ld-linux-x86-64.so.2');
    assert.deepEqual(dyn.needed, ['libc.so.6']);
    assert.deepEqual([...dyn.runpath, ...dyn.rpath], ['$ORIGIN/../lib']);
    const st = parseElfDeps(await readFile(staticBin))!;
    assert.deepEqual(st, { interp: undefined, needed: [], rpath: [], runpath: [] });
    assert.equal(parseElfDeps(Buffer.from('#!/bin/sh\n')), undefined);
  });

  it('passes an image whose only binary is static musl', async () => {
    const entries = await collectRootfs([await image({ 'usr/bin/hello': staticBin })]);
    await checkImageElves(entries, 'x86_64-linux-gnu');
  });

  it('fails naming the file, the missing library and the missing interpreter of a dynamic glibc binary', async () => {
    const entries = await collectRootfs([await image({ 'usr/bin/hello': dynamicBin })]);
    await assert.rejects(checkImageElves(entries, 'x86_64-linux-gnu'), (err: Error) => {
      assert.ok(err instanceof ZosError);
      assert.match(err.message, /\/usr\/bin\/hello needs the library libc\.so\.6/);
      assert.match(err.message, /\/usr\/bin\/hello needs the interpreter \/lib64\/ld-linux-x86-64\.so\.2/);
      return true;
    });
  });

  it('finds libraries through RUNPATH ($ORIGIN) and interpreters through symlinks inside the image', async () => {
    // Any file stands in for the library: the check is about presence in the image, not the host.
    const entries = await collectRootfs([
      await image({
        'opt/app/bin/hello': dynamicBin,
        'opt/app/lib/libc.so.6': staticBin,
        'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': staticBin,
        lib64: { link: 'lib/x86_64-linux-gnu' },
      }),
    ]);
    assert.deepEqual(await findMissingDeps(entries, 'x86_64-linux-gnu'), []);
  });

  it("finds a Debian library in the architecture's multiarch dir, as Debian's glibc loader does", async () => {
    const entries = await collectRootfs([
      await image({
        'usr/sbin/tool': dynamicBin,
        'lib/x86_64-linux-gnu/libc.so.6': staticBin,
        'lib64/ld-linux-x86-64.so.2': staticBin,
      }),
    ]);
    assert.deepEqual(await findMissingDeps(entries, 'x86_64-linux-gnu'), []);
    // Another architecture's loader would not look there.
    assert.deepEqual(await findMissingDeps(entries, 'aarch64-linux-gnu'), [
      { file: 'usr/sbin/tool', kind: 'library', name: 'libc.so.6' },
    ]);
  });

  it('does not look at the host: a library present on the host but not in the image is missing', async () => {
    const entries = await collectRootfs([
      await image({ 'lib64/ld-linux-x86-64.so.2': staticBin, 'bin/hello': dynamicBin }),
    ]);
    assert.deepEqual(await findMissingDeps(entries, 'x86_64-linux-gnu'), [
      { file: 'bin/hello', kind: 'library', name: 'libc.so.6' },
    ]);
  });
});
