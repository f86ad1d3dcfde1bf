import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packImage } from '../../build/image/pack.js';
import { renderReport } from '../../build/report/html.js';
import { imageSizes } from '../../build/report/image-sizes.js';
import { chromiumSkipReason, NetworkTrap, renderedDom } from '../helpers/chromium.js';

describe('build report', () => {
  it('attributes every file of a real initramfs to the layer that put it there, with exact sizes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-report-'));
    try {
      const redis = join(dir, 'redis');
      const overlay = join(dir, 'overlay');
      await mkdir(join(redis, 'usr/bin'), { recursive: true });
      await mkdir(join(overlay, 'usr/bin'), { recursive: true });
      await writeFile(join(redis, 'usr/bin/redis-server'), Buffer.alloc(5000, 7));
      await writeFile(join(redis, 'usr/bin/replaced'), 'from redis');
      await symlink('redis-server', join(redis, 'usr/bin/redis-check-rdb'));
      await writeFile(join(overlay, 'init'), '#!/bin/sh\nexec /sbin/core0\n');
      await writeFile(join(overlay, 'usr/bin/replaced'), 'the overlay wins');
      const file = join(dir, 'initramfs.cpio.gz');
      const packed = await packImage({
        base: [],
        layers: [
          { component: 'redis', rootfs: redis },
          { component: 'rootfs-overlay', rootfs: overlay },
        ],
        generated: [{ path: 'etc/os-release', data: 'NAME=zos\n', mode: 0o644 }],
        select: (e) => e,
        epoch: 1700000000,
        compression: 'gzip',
        outFile: file,
        workDir: join(dir, 'work'),
      });
      const sizes = await imageSizes(file, 'gzip', packed.segments);
      const byPath = Object.fromEntries(sizes.files.map((f) => [f.path, f]));
      assert.deepEqual(byPath['usr/bin/redis-server'], {
        path: 'usr/bin/redis-server',
        component: 'redis',
        size: 5000,
      });
      assert.deepEqual(byPath['usr/bin/redis-check-rdb'], {
        path: 'usr/bin/redis-check-rdb',
        component: 'redis',
        size: 'redis-server'.length,
      });
      assert.equal(byPath['usr/bin/replaced']!.component, 'rootfs-overlay');
      assert.equal(byPath['usr/bin/replaced']!.size, 'the overlay wins'.length);
      assert.equal(byPath['etc/os-release']!.component, 'generated');
      assert.equal(
        sizes.bytes,
        sizes.files.reduce((n, f) => n + f.size, 0),
      );
      assert.equal(
        sizes.components.reduce((n, c) => n + c.bytes, 0),
        sizes.bytes,
      );
      const redisC = sizes.components.find((c) => c.component === 'redis')!;
      assert.equal(redisC.files, 2);
      // 5000 identical bytes compress to far less than they take.
      assert.ok(redisC.compressed > 0 && redisC.compressed < 1000, String(redisC.compressed));
      // Exact, not estimated: the image is the components' archives end to end.
      assert.equal(
        sizes.components.reduce((n, c) => n + c.compressed, 0),
        sizes.compressedBytes,
      );

      const html = renderReport({
        profile: 'qemu',
        version: '1.0.0',
        commit: 'abc',
        started: 1000,
        finished: 61000,
        steps: [
          { id: 'recipe:redis', deps: [], outcome: 'built', start: 1000, end: 50000, downloads: ['redis.tar.gz'] },
          { id: 'initramfs', deps: ['recipe:redis'], outcome: 'cached', start: 50000, end: 50000, downloads: [] },
          { id: 'artifact:<iso>', deps: ['initramfs'], outcome: 'downloaded', start: 50000, end: 61000, downloads: [] },
        ],
        critical: ['recipe:redis', 'initramfs', 'artifact:<iso>'],
        artifacts: [{ file: 'initramfs.cpio.gz', size: sizes.compressedBytes, sha256: 'f'.repeat(64) }],
        image: sizes,
      });
      assert.match(
        html,
        /<tr data-step="recipe:redis" data-outcome="built" data-critical="true"><td>recipe:redis<\/td><td>built, downloaded redis\.tar\.gz<\/td>/,
      );
      assert.match(html, /data-step="artifact:&#60;iso&#62;" data-outcome="downloaded"/, 'ids are escaped');
      assert.match(
        html,
        /<tr data-file="usr\/bin\/redis-server"><td>\/usr\/bin\/redis-server<\/td><td>redis<\/td><td class="num" data-bytes="5000">/,
      );
      assert.doesNotMatch(html, /<script|https?:/);

      if (chromiumSkipReason()) return;
      // What a browser shows: every step, every file with its exact size, and no request made.
      const page = join(dir, 'report.html');
      await writeFile(page, html);
      const trap = await NetworkTrap.start();
      try {
        const dom = await renderedDom(page, trap);
        for (const id of ['recipe:redis', 'initramfs', 'artifact:&lt;iso&gt;'])
          assert.ok(dom.includes(`<td>${id}</td>`), `step ${id} not rendered`);
        for (const f of sizes.files)
          assert.match(
            dom,
            new RegExp(
              `<tr data-file="${f.path}"><td>/${f.path}</td><td>${f.component}</td><td class="num" data-bytes="${f.size}">${f.size}</td>`,
            ),
          );
        assert.match(dom, new RegExp(`<tr id="initramfs-total">.*?data-compressed="${sizes.compressedBytes}"`, 's'));
        assert.match(dom, /<svg[^>]*aria-label="build timeline"/);
        assert.deepEqual(trap.pageRequests(), [], 'the page made a network request');
        // The trap does see a page's requests: the same check on a page that loads an image fails.
        const leaky = join(dir, 'leaky.html');
        await writeFile(
          leaky,
          '<!DOCTYPE html><html><body><img src="http://zos-report-probe.test/x.png"></body></html>',
        );
        await renderedDom(leaky, trap);
        assert.ok(
          trap.pageRequests().some((r) => r.includes('zos-report-probe.test')),
          trap.requests.join('\n'),
        );
      } finally {
        await trap.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
