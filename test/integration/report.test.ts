import { initramfsCpio } from '../boot/helpers.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Manifest } from '../../build/publish/out-dir.js';
import { repoCopy, zosBuild } from '../helpers/cli.js';
import { readNewcImage } from '../helpers/newc-read.js';
import { chromiumSkipReason, NetworkTrap, renderedDom } from '../helpers/chromium.js';

const attr = (html: string, row: string, key: string, name: string): string | undefined =>
  new RegExp(`<tr ${row}="${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>(.*?)</tr>`, 's')
    .exec(html)?.[1]
    ?.match(new RegExp(`${name}="(\\d+)"`))?.[1];

// out/<profile>/report.html of a real qemu build, opened in Debian's chromium: it must render
// every step of the build and sizes equal to manifest.json and to the image itself, offline.
describe('build report (qemu profile, headless chromium)', { skip: chromiumSkipReason(), timeout: 60 * 60_000 }, () => {
  let repo: string;
  let dom: string;
  let html: string;
  let manifest: Manifest;
  let outcomes: Record<string, string>;
  let trap: NetworkTrap;

  before(async () => {
    trap = await NetworkTrap.start();
    repo = await repoCopy();
    // A unique overlay edit: the image and the artifacts really build, the recipes come from the cache.
    await appendFile(join(repo, 'rootfs-overlay/init'), `\n# report test ${randomUUID()}\n`);
    const r = await zosBuild(['build', '--profile', 'qemu'], { repo });
    assert.equal(r.code, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /build report: .*report\.html/);
    const out = join(repo, 'out/qemu');
    manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
    outcomes = (
      JSON.parse(await readFile(join(repo, 'out/logs/qemu/last-build.json'), 'utf8')) as {
        outcomes: Record<string, string>;
      }
    ).outcomes;
    html = await readFile(join(out, 'report.html'), 'utf8');
    dom = await renderedDom(join(out, 'report.html'), trap);
  });
  after(async () => {
    await trap?.stop();
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  it('shows every step of the build with what happened to it, and the critical path', () => {
    assert.ok(Object.keys(outcomes).length > 5);
    for (const [id, outcome] of Object.entries(outcomes)) {
      const row = new RegExp(`<tr data-step="${id}" data-outcome="(\\w+)" data-critical="(true|false)">`).exec(dom);
      assert.ok(row, `step ${id} is not in the rendered report`);
      assert.equal(row[1], outcome, `step ${id}`);
    }
    assert.equal(outcomes.initramfs, 'built');
    assert.match(
      dom,
      /<tr data-step="initramfs" data-outcome="built" data-critical="true">/,
      'the rebuilt image is on the critical path',
    );
    assert.match(dom, /<svg[^>]*aria-label="build timeline"/);
  });

  it('shows the artifacts with the sizes of manifest.json', () => {
    for (const a of manifest.artifacts)
      assert.equal(attr(dom, 'data-artifact', a.file, 'data-bytes'), String(a.size), a.file);
    const initramfs = manifest.artifacts.find((a) => a.file.startsWith('initramfs.cpio'))!;
    assert.match(
      dom,
      new RegExp(`<tr id="initramfs-total">.*?data-compressed="${initramfs.size}"`, 's'),
      'real initramfs size',
    );
  });

  it('breaks the image down by component and file, matching the initramfs byte for byte', async () => {
    const cpio = await initramfsCpio(join(repo, 'out/qemu'));
    const files = [...readNewcImage(cpio).files.values()].filter((r) =>
      [0o100000, 0o120000].includes(r.mode & 0o170000),
    );
    let total = 0;
    for (const f of files) {
      assert.equal(attr(dom, 'data-file', f.name, 'data-bytes'), String(f.filesize), f.name);
      total += f.filesize;
    }
    assert.equal((dom.match(/<tr data-file=/g) ?? []).length, files.length);
    assert.match(dom, new RegExp(`<tr id="image-total">.*?data-bytes="${total}"`, 's'));
    const components = [
      ...dom.matchAll(
        /<tr data-component="([^"]+)"(?: data-mounted="true")?>.*?data-bytes="(\d+)".*?data-compressed="(\d+)"/gs,
      ),
    ];
    assert.equal(
      components.reduce((n, m) => n + Number(m[2]), 0),
      total,
      'components add up to the image',
    );
    const names = components.map((m) => m[1]);
    for (const c of ['busybox', 'redis', 'core0', 'rootfs-overlay', 'generated'])
      assert.ok(names.includes(c), `component ${c} missing: ${names.join(', ')}`);
    assert.equal(attr(dom, 'data-file', 'usr/bin/redis-server', 'data-bytes') !== undefined, true);
    assert.match(dom, /<tr data-file="usr\/bin\/redis-server"><td>\/usr\/bin\/redis-server<\/td><td>redis<\/td>/);
    for (const m of components) assert.ok(Number(m[3]) > 0, `compressed size of ${m[1]}`);
    // A mounted layer is marked, and its size is its squashfs image's (plus the links into it).
    assert.match(dom, /<tr data-component="nftables" data-mounted="true">/);
    assert.match(dom, /<tr data-component="busybox">/);
    assert.match(dom, /<tr data-file="usr\/lib\/zos\/layers\/nftables.squashfs"><td>[^<]*<\/td><td>nftables<\/td>/);
    // Exact: the initramfs is the components' compressed archives end to end.
    const initramfs = manifest.artifacts.find((a) => a.file.startsWith('initramfs.cpio'))!;
    assert.equal(
      components.reduce((n, m) => n + Number(m[3]), 0),
      initramfs.size,
      'compressed components add up to the initramfs',
    );
  });

  it('is self-contained: nothing to load, a CSP that forbids loading, no request made', () => {
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
    );
    assert.doesNotMatch(html, /https?:\/\//, 'no URL at all in the page');
    assert.doesNotMatch(html, /<(script|link|img|iframe)\b[^>]*(src|href)=/i);
    assert.deepEqual(trap.pageRequests(), [], 'the page made a network request');
  });
});
