import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyFragments, droppedOptions, parseKconfig, verifyKconfig } from '../../build/steps/kconfig.js';
import { imageTmpDir } from '../helpers/image-tools.js';

describe('kconfig fragments', () => {
  it('parses set and unset options and rejects junk naming the line', () => {
    const v = parseKconfig('CONFIG_A=y\n# CONFIG_B is not set\n\n# comment\nCONFIG_C="x y"\n', 'frag');
    assert.deepEqual(
      [...v],
      [
        ['CONFIG_A', 'y'],
        ['CONFIG_B', 'n'],
        ['CONFIG_C', '"x y"'],
      ],
    );
    assert.throws(
      () => parseKconfig('CONFIG_A=y\nA=y\n', 'kernel/x.config'),
      /kernel\/x\.config:2: not a kconfig line: A=y/,
    );
  });

  it('lists options kconfig dropped, with the fragment that asked, later fragments winning', () => {
    const frags = [
      { file: 'base.config', values: parseKconfig('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n', 'base') },
      { file: 'qemu.config', values: parseKconfig('CONFIG_B=m\n', 'qemu') },
    ];
    const final = parseKconfig('CONFIG_A=y\nCONFIG_B=y\n', 'final');
    assert.deepEqual(droppedOptions(frags, final), [
      { option: 'CONFIG_B', wanted: 'm', got: 'y', file: 'qemu.config' },
    ]);
    assert.deepEqual(
      droppedOptions(frags, parseKconfig('CONFIG_B=m\n', 'f')).map((d) => [d.option, d.got]),
      [['CONFIG_A', 'absent']],
    );
  });

  it('verifyKconfig fails listing every dropped option', async (t) => {
    const { dir, cleanup } = await imageTmpDir('kconfig');
    t.after(cleanup);
    await writeFile(join(dir, 'frag.config'), 'CONFIG_NET=y\nCONFIG_NOPE=y\nCONFIG_ALSO_NOPE=m\n');
    await writeFile(join(dir, '.config'), 'CONFIG_NET=y\n');
    await assert.rejects(verifyKconfig('linux', [join(dir, 'frag.config')], join(dir, '.config')), (err: Error) => {
      assert.match(err.message, /linux: kconfig dropped 2 option\(s\)/);
      assert.match(err.message, /CONFIG_ALSO_NOPE=m \(from .*frag\.config\) -> absent/);
      assert.match(err.message, /CONFIG_NOPE=y \(from .*frag\.config\) -> absent/);
      return true;
    });
  });

  it('applyFragments overrides in place and appends new options', async (t) => {
    const { dir, cleanup } = await imageTmpDir('kconfig');
    t.after(cleanup);
    await writeFile(join(dir, '.config'), 'CONFIG_A=y\n# CONFIG_B is not set\n');
    await writeFile(join(dir, 'f'), '# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C=y\n');
    await applyFragments(join(dir, '.config'), [join(dir, 'f')]);
    assert.equal(await readFile(join(dir, '.config'), 'utf8'), '# CONFIG_A is not set\nCONFIG_B=y\n\nCONFIG_C=y');
  });
});
