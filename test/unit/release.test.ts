import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { repoDir } from '../../build/paths.js';
import type { Manifest } from '../../build/publish/out-dir.js';
import { formatSha256Sums, parseSha256Sums, writeSha256Sums } from '../../build/release/checksums.js';
import {
  compareCpioBuffers,
  compareDirs,
  fatPartitionOffset,
  formatDifference,
  parseNewc,
} from '../../build/release/compare.js';
import { copyLicenseTexts, csvField, legalCsv } from '../../build/release/legal.js';
import { assembleRelease, releaseName } from '../../build/release/release.js';
import { sha256File } from '../../build/util/hash.js';
import { ZosError } from '../../build/util/errors.js';
import { sampleManifest } from '../fixtures/spdx/sample-manifest.js';

const scratch = await mkdtemp(join(tmpdir(), 'zos-release-test-'));
after(() => rm(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = async (name: string) => {
  const d = join(scratch, `${++n}-${name}`);
  await mkdir(d, { recursive: true });
  return d;
};

function sh(cmd: string, cwd: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; ${cmd}`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
}

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, data] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), data);
  }
}

// ---------- SHA256SUMS

test('SHA256SUMS is byte-identical to sha256sum output and passes sha256sum -c; a changed file fails it', async () => {
  const dir = await fresh('sums');
  await writeTree(dir, {
    'zos-1.0.0-qemu.efi': 'efi',
    'b dir/with space.txt': 'spaces',
    'a/ü-nicode': 'utf8 name',
    'Z-upper': 'sorted before lower case',
    'netboot/boot.ipxe': '#!ipxe\n',
  });
  const entries = await writeSha256Sums(dir);
  assert.equal(entries.length, 5);
  const ours = await readFile(join(dir, 'SHA256SUMS'), 'utf8');
  const theirs = sh(
    `find . -type f ! -name SHA256SUMS -printf '%P\\n' | sort | tr '\\n' '\\0' | xargs -0 sha256sum`,
    dir,
  );
  assert.equal(ours, theirs);
  assert.match(sh('sha256sum --strict -c SHA256SUMS', dir), /zos-1\.0\.0-qemu\.efi: OK/);
  await writeFile(join(dir, 'netboot/boot.ipxe'), '#!ipxe\nchain evil\n');
  const r = spawnSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /netboot\/boot\.ipxe: FAILED/);
  assert.deepEqual(
    parseSha256Sums(ours).map((e) => e.file),
    entries.map((e) => e.file),
  );
});

test('SHA256SUMS refuses names sha256sum would escape, bad digests and duplicates', () => {
  const h = 'a'.repeat(64);
  assert.throws(() => formatSha256Sums([{ file: 'a\nb', sha256: h }]), ZosError);
  assert.throws(() => formatSha256Sums([{ file: 'a\\b', sha256: h }]), ZosError);
  assert.throws(() => formatSha256Sums([{ file: 'a', sha256: 'A'.repeat(64) }]), ZosError);
  assert.throws(
    () =>
      formatSha256Sums([
        { file: 'a', sha256: h },
        { file: 'a', sha256: h },
      ]),
    /twice/,
  );
});

// ---------- legal-info

async function fakeOut(manifest: Manifest, opts: { skipLegal?: string } = {}): Promise<string> {
  const out = await fresh(`out-${manifest.profile}`);
  for (const a of manifest.artifacts) await writeTree(out, { [a.file]: `${manifest.profile}:${a.file}` });
  manifest.artifacts = await Promise.all(
    manifest.artifacts.map(async (a) => ({
      ...a,
      size: (await readFile(join(out, a.file))).length,
      sha256: await sha256File(join(out, a.file)),
    })),
  );
  for (const r of manifest.recipes) {
    if (r.name === opts.skipLegal) continue;
    await writeTree(out, { [`legal/${r.name}/COPYING`]: `${r.license} text of ${r.name}\n` });
  }
  await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return out;
}

test('license texts are copied per recipe-version; a missing one fails naming the recipe', async () => {
  const m = sampleManifest();
  const out = await fakeOut(m);
  const rel = await fresh('legal');
  const entries = await copyLicenseTexts(m, out, rel);
  assert.deepEqual(
    entries.map((e) => e.files[0]),
    [
      'legal-info/busybox-1.35.0/COPYING',
      'legal-info/core0-1.2.3/COPYING',
      'legal-info/linux-6.1.100/COPYING',
      'legal-info/redis-7.0.15/COPYING',
    ],
  );
  assert.equal(await readFile(join(rel, 'legal-info/redis-7.0.15/COPYING'), 'utf8'), 'BSD-3-Clause text of redis\n');

  const m2 = sampleManifest();
  const out2 = await fakeOut(m2, { skipLegal: 'redis' });
  await assert.rejects(
    copyLicenseTexts(m2, out2, await fresh('legal2')),
    (e: unknown) => e instanceof ZosError && /recipe redis 7\.0\.15/.test(e.message),
  );
});

test('legal-info/manifest.csv lists recipe, version, license, source and sha256', () => {
  const csv = legalCsv([sampleManifest()]);
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'recipe,version,license,source,sha256');
  assert.ok(
    lines.includes(
      `busybox,1.35.0,GPL-2.0-only,https://busybox.net/downloads/busybox-1.35.0.tar.bz2,${'b'.repeat(64)}`,
    ),
  );
  assert.ok(
    lines.includes(
      `redis,7.0.15,BSD-3-Clause,https://deb.debian.org/debian/pool/main/r/redis/redis_7.0.15.orig.tar.gz,${'a'.repeat(64)}`,
    ),
  );
  assert.ok(lines.some((l) => l.startsWith('core0,1.2.3,Apache-2.0,zos-build@0123456789ab')));
  assert.equal(csvField('MIT OR Apache-2.0, "x"'), '"MIT OR Apache-2.0, ""x"""');
});

// ---------- the release directory

test('a release directory holds renamed artifacts, manifests, valid SBOMs, legal-info and a SHA256SUMS that sha256sum -c accepts', async () => {
  const dest = await fresh('release');
  const qemu = sampleManifest({ profile: 'qemu' });
  const generic = sampleManifest({ profile: 'generic', fingerprint: 'e'.repeat(64) });
  await assembleRelease({ manifest: qemu, outDir: await fakeOut(qemu), dest });
  await assembleRelease({ manifest: generic, outDir: await fakeOut(generic), dest });
  const top = (await readdir(dest)).sort();
  for (const f of [
    'SHA256SUMS',
    'legal-info',
    'zos-1.2.3-generic.efi',
    'zos-1.2.3-generic.manifest.json',
    'zos-1.2.3-generic.spdx.json',
    'zos-1.2.3-qemu-initramfs.cpio.xz',
    'zos-1.2.3-qemu-netboot',
    'zos-1.2.3-qemu-netboot.tar.gz',
    'zos-1.2.3-qemu.efi',
    'zos-1.2.3-legal-info.tar.gz',
  ]) {
    assert.ok(top.includes(f), `${f} in ${top.join(' ')}`);
  }
  assert.equal(await readFile(join(dest, 'zos-1.2.3-qemu-netboot/vmlinuz'), 'utf8'), 'qemu:netboot/vmlinuz');
  assert.match(sh('sha256sum --strict -c SHA256SUMS', dest), /zos-1\.2\.3-generic\.spdx\.json: OK/);
  const listed = parseSha256Sums(await readFile(join(dest, 'SHA256SUMS'), 'utf8')).map((e) => e.file);
  assert.ok(listed.includes('legal-info/manifest.csv') && listed.includes('zos-1.2.3-qemu-netboot.tar.gz'));
  assert.match(sh('tar -tzf zos-1.2.3-qemu-netboot.tar.gz', dest), /^zos-1\.2\.3-qemu-netboot\/vmlinuz$/m);

  const schema = JSON.parse(await readFile(join(repoDir, 'test/fixtures/spdx/spdx-schema-2.3.json'), 'utf8')) as object;
  const validate = new Ajv2019({ strict: false }).compile(schema);
  for (const p of ['qemu', 'generic']) {
    const doc = JSON.parse(await readFile(join(dest, `zos-1.2.3-${p}.spdx.json`), 'utf8')) as unknown;
    assert.ok(validate(doc), JSON.stringify(validate.errors));
  }

  // Same inputs, another directory, later: byte-identical release (tarballs included).
  await new Promise((r) => setTimeout(r, 1100));
  const again = await fresh('release-again');
  const q2 = sampleManifest({ profile: 'qemu' });
  const g2 = sampleManifest({ profile: 'generic', fingerprint: 'e'.repeat(64) });
  await assembleRelease({ manifest: g2, outDir: await fakeOut(g2), dest: again });
  await assembleRelease({ manifest: q2, outDir: await fakeOut(q2), dest: again });
  assert.equal(await readFile(join(again, 'SHA256SUMS'), 'utf8'), await readFile(join(dest, 'SHA256SUMS'), 'utf8'));
});

test('a release refuses an artifact that no longer matches its manifest, and a second version in one directory', async () => {
  const m = sampleManifest();
  const out = await fakeOut(m);
  await writeFile(join(out, 'zos.efi'), 'tampered');
  await assert.rejects(
    assembleRelease({ manifest: m, outDir: out, dest: await fresh('tampered') }),
    /zos\.efi has sha256/,
  );

  const dest = await fresh('two-versions');
  const a = sampleManifest();
  await assembleRelease({ manifest: a, outDir: await fakeOut(a), dest });
  const b = sampleManifest({ version: '1.2.4', profile: 'generic' });
  await assert.rejects(
    assembleRelease({ manifest: b, outDir: await fakeOut(b), dest }),
    /already holds version 1\.2\.3/,
  );
});

test('release names are versioned and keep the names inside folders', () => {
  const m = { version: '2.0.0', profile: 'generic' };
  assert.equal(releaseName(m, 'zos.efi'), 'zos-2.0.0-generic.efi');
  assert.equal(releaseName(m, 'zos.iso'), 'zos-2.0.0-generic.iso');
  assert.equal(releaseName(m, 'usb.img'), 'zos-2.0.0-generic-usb.img');
  assert.equal(releaseName(m, 'vmlinuz'), 'zos-2.0.0-generic-vmlinuz');
  assert.equal(releaseName(m, 'netboot/boot.ipxe'), 'zos-2.0.0-generic-netboot/boot.ipxe');
});

// ---------- comparing two builds

/** A newc archive of `tree` made by GNU cpio (sorted, owners and mtimes fixed), compressed with `compress`. */
function cpioOf(tree: string, out: string, compress: string): void {
  sh(
    `find . -mindepth 1 -exec touch -h -d @1700000000 {} + && find . -mindepth 1 -printf '%P\\n' | sort | cpio --quiet -o -H newc -R 0:0 --reproducible ${compress ? `| ${compress}` : ''} > '${out}'`,
    tree,
  );
}

async function initramfsPair(
  change: (b: string) => Promise<void>,
  compress = 'xz --check=crc32 -c',
): Promise<[string, string]> {
  const base = await fresh('cpio');
  const trees = [join(base, 'ta'), join(base, 'tb')];
  for (const t of trees) {
    await writeTree(t, {
      'bin/busybox': Buffer.alloc(5000, 7),
      'etc/hostname': 'zos\n',
      'etc/zos.conf': 'a=1\nb=2\n',
      init: '#!/bin/sh\n',
    });
    await chmod(join(t, 'init'), 0o755);
  }
  await change(trees[1]!);
  const dirs = [join(base, 'A'), join(base, 'B')];
  for (const [i, t] of trees.entries()) {
    await mkdir(dirs[i]!, { recursive: true });
    await writeFile(join(dirs[i]!, 'vmlinuz'), 'same kernel');
    cpioOf(t, join(dirs[i]!, 'initramfs.cpio.xz'), compress);
  }
  return [dirs[0]!, dirs[1]!];
}

test('compare names the first cpio member whose content differs inside a compressed initramfs', async () => {
  const [a, b] = await initramfsPair((t) => writeFile(join(t, 'etc/zos.conf'), 'a=1\nb=3\n'));
  const diffs = await compareDirs(a, b);
  assert.equal(diffs.length, 1, diffs.map(formatDifference).join('\n'));
  assert.deepEqual(diffs[0]!.path, ['initramfs.cpio.xz', 'etc/zos.conf']);
  assert.match(diffs[0]!.detail, /content differs at byte 6/);
});

test('compare names a member whose header differs (mode) and one present only in one archive', async () => {
  const [a, b] = await initramfsPair((t) => chmod(join(t, 'etc/hostname'), 0o600), 'gzip -n -c');
  const [d] = await compareDirs(a, b);
  assert.deepEqual(d!.path, ['initramfs.cpio.xz', 'etc/hostname']);
  assert.match(d!.detail, /header field mode differs: 0100644 vs 0100600/);

  const [c, e] = await initramfsPair((t) => writeFile(join(t, 'etc/extra'), 'x'), 'zstd -q -c');
  const [d2] = await compareDirs(c, e);
  assert.deepEqual(d2!.path, ['initramfs.cpio.xz', 'etc/extra']);
  assert.match(d2!.detail, /only in the second|present only in the second/);
});

test('compare reports equal trees as equal and files present on one side only', async () => {
  const [a, b] = await initramfsPair(async () => {});
  assert.deepEqual(await compareDirs(a, b), []);
  await writeFile(join(b, 'zos.iso'), 'x');
  const diffs = await compareDirs(a, b);
  assert.deepEqual(
    diffs.map((d) => d.path[0]),
    ['zos.iso'],
  );
  assert.match(diffs[0]!.detail, /only in the second tree/);
});

test('compare looks inside ISO images and FAT disk images down to the initramfs member', async () => {
  const [a, b] = await initramfsPair((t) => writeFile(join(t, 'init'), '#!/bin/sh\nexec /sbin/other\n'));
  for (const d of [a, b]) {
    const tree = join(d, 'isotree');
    await mkdir(join(tree, 'boot'), { recursive: true });
    sh(`cp initramfs.cpio.xz isotree/boot/ && xorriso -as mkisofs -quiet -R -o zos.iso isotree 2>/dev/null`, d);
    // A GPT disk with one FAT partition at 1 MiB, the way usb.img is laid out.
    sh(
      `truncate -s 8M usb.img && printf 'label: gpt\\nstart=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\\n' | sfdisk -q usb.img && ` +
        `truncate -s 7M part.img && mkfs.vfat -i 12345678 part.img >/dev/null && mmd -i part.img ::/zos && mcopy -i part.img initramfs.cpio.xz ::/zos/ && ` +
        `dd if=part.img of=usb.img bs=1M seek=1 conv=notrunc status=none && rm -rf isotree part.img`,
      d,
    );
  }
  assert.equal(fatPartitionOffset(await readFile(join(a, 'usb.img'))), 1 << 20);
  const diffs = await compareDirs(a, b);
  const byArtifact = new Map(diffs.map((d) => [d.path[0], d]));
  assert.deepEqual(
    byArtifact.get('zos.iso')?.path,
    ['zos.iso', 'boot/initramfs.cpio.xz', 'init'],
    diffs.map(formatDifference).join('\n'),
  );
  assert.deepEqual(
    byArtifact.get('usb.img')?.path,
    ['usb.img', 'zos/initramfs.cpio.xz', 'init'],
    diffs.map(formatDifference).join('\n'),
  );
  assert.deepEqual(byArtifact.get('initramfs.cpio.xz')?.path, ['initramfs.cpio.xz', 'init']);
});

test('the newc parser reads what GNU cpio writes, and compareCpioBuffers sees a renamed member', async () => {
  const t = await fresh('newc');
  await writeTree(t, { 'a/x': 'hello', b: '' });
  const out = join(t, '..', `${n}.cpio`);
  cpioOf(t, out, '');
  const members = parseNewc(await readFile(out));
  assert.deepEqual(
    members.map((m) => m.name),
    ['a', 'a/x', 'b', 'TRAILER!!!'],
  );
  assert.equal(members[1]!.data.toString(), 'hello');
  assert.equal(members[1]!.header.mtime, 1700000000);
  const t2 = await fresh('newc2');
  await writeTree(t2, { 'a/y': 'hello', b: '' });
  const out2 = join(t2, '..', `${n}.cpio`);
  cpioOf(t2, out2, '');
  const d = compareCpioBuffers(await readFile(out), await readFile(out2));
  assert.equal(d?.member, 'a/x');
  assert.match(d!.detail, /only in the first archive/);
});

test('compare leaves out the files it is told to ignore (the build report), and only those', async () => {
  const [a, b] = await initramfsPair(async () => {});
  await writeFile(join(a, 'report.html'), 'built in 10 s');
  await writeFile(join(b, 'report.html'), 'built in 12 s');
  assert.deepEqual(await compareDirs(a, b, { ignore: ['report.html'] }), []);
  assert.deepEqual(
    (await compareDirs(a, b)).map((d) => d.path[0]),
    ['report.html'],
  );
  await writeFile(join(b, 'vmlinuz'), 'other kernel');
  assert.deepEqual(
    (await compareDirs(a, b, { ignore: ['report.html'] })).map((d) => d.path[0]),
    ['vmlinuz'],
  );
});
