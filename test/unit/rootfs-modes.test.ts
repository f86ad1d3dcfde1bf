import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectRootfs } from '../../build/image/rootfs.js';
import { imageTmpDir } from '../helpers/image-tools.js';

// A checkout made under umask 027 has 0750/0640 files; the image must not depend on that.
describe('rootfs layer modes from a git checkout', () => {
  it('take only the exec bit, as git records it', async (t) => {
    const { dir, cleanup } = await imageTmpDir('gitmode');
    t.after(cleanup);
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'init'), '#!/bin/sh\n');
    await writeFile(join(dir, 'etc/motd'), 'hi\n');
    await chmod(join(dir, 'init'), 0o750);
    await chmod(join(dir, 'etc/motd'), 0o640);
    await chmod(join(dir, 'etc'), 0o750);
    const modes = (entries: Awaited<ReturnType<typeof collectRootfs>>) =>
      Object.fromEntries(entries.map((e) => [e.path, e.mode.toString(8)]));
    const git = modes(await collectRootfs([{ dir, modes: 'git' }], [], []));
    assert.deepEqual(git, { etc: '755', 'etc/motd': '644', init: '755' });
    const asIs = modes(await collectRootfs([dir], [], []));
    assert.deepEqual(asIs, { etc: '750', 'etc/motd': '640', init: '750' });
  });
});
