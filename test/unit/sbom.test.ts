import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { repoDir } from '../../build/paths.js';
import { cpeName } from '../../build/recipe/cpe.js';
import { loadRecipes } from '../../build/recipe/load.js';
import { genericPurl, sbomJson, spdxDate, spdxSbom } from '../../build/release/sbom.js';
import { sampleManifest } from '../fixtures/spdx/sample-manifest.js';

async function validator() {
  const schema = JSON.parse(await readFile(join(repoDir, 'test/fixtures/spdx/spdx-schema-2.3.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(schema.title, 'SPDX 2.3');
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

test('the SBOM validates against the SPDX 2.3 JSON schema, and the schema check can fail', async () => {
  const validate = await validator();
  const doc = spdxSbom(sampleManifest(), {
    details: { busybox: { description: 'tools', homepage: 'https://busybox.net/' } },
  });
  assert.ok(validate(JSON.parse(sbomJson(doc))), JSON.stringify(validate.errors, null, 2));
  // The same validator rejects a document with an unknown field or a missing required one.
  const broken = JSON.parse(sbomJson(doc)) as Record<string, unknown>;
  delete broken.documentNamespace;
  assert.equal(validate(broken), false);
  const extra = JSON.parse(sbomJson(doc)) as { packages: Array<Record<string, unknown>> };
  extra.packages[0]!.licence = 'typo';
  assert.equal(validate(extra), false);
});

test('the SBOM is deterministic and derived from the manifest only', () => {
  const a = sbomJson(spdxSbom(sampleManifest()));
  const reordered = sampleManifest();
  reordered.recipes.reverse();
  reordered.artifacts.reverse();
  assert.equal(sbomJson(spdxSbom(reordered)), a, 'input order must not matter');
  assert.equal(sbomJson(spdxSbom(sampleManifest())), a);
  const other = spdxSbom(sampleManifest({ fingerprint: 'e'.repeat(64) }));
  assert.notEqual(
    other.documentNamespace,
    spdxSbom(sampleManifest()).documentNamespace,
    'another image content is another document',
  );
  assert.doesNotMatch(a, /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/, 'no random UUID');
});

test('the SBOM describes the image, which contains one package per recipe with license, location, checksum and purl', () => {
  const doc = spdxSbom(sampleManifest());
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.creationInfo.created, '2023-11-14T22:13:20Z');
  assert.equal(spdxDate(0), '1970-01-01T00:00:00Z');
  const byName = new Map(doc.packages.map((p) => [p.name, p]));
  const busybox = byName.get('busybox')!;
  assert.equal(busybox.versionInfo, '1.35.0');
  assert.equal(busybox.licenseDeclared, 'GPL-2.0-only');
  assert.equal(busybox.licenseConcluded, 'GPL-2.0-only');
  assert.equal(
    busybox.downloadLocation,
    'https://busybox.net/downloads/busybox-1.35.0.tar.bz2',
    'upstream URL preferred over debian:',
  );
  assert.deepEqual(busybox.checksums, [{ algorithm: 'SHA256', checksumValue: 'b'.repeat(64) }]);
  assert.ok(
    busybox.externalRefs!.some(
      (r) => r.referenceType === 'cpe23Type' && r.referenceLocator === 'cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*',
    ),
  );
  const redis = byName.get('redis')!;
  assert.equal(
    redis.downloadLocation,
    'https://deb.debian.org/debian/pool/main/r/redis/redis_7.0.15.orig.tar.gz',
    'debian: resolved',
  );
  const purl = redis.externalRefs!.find((r) => r.referenceType === 'purl')!.referenceLocator;
  assert.equal(
    purl,
    `pkg:generic/redis@7.0.15?checksum=sha256%3A${'a'.repeat(64)}&download_url=https%3A%2F%2Fdeb.debian.org%2Fdebian%2Fpool%2Fmain%2Fr%2Fredis%2Fredis_7.0.15.orig.tar.gz`,
  );
  assert.equal(byName.get('core0')!.downloadLocation, 'NOASSERTION');
  assert.match(byName.get('linux')!.comment!, /config sha256 c{64}/);
  const efi = byName.get('zos.efi')!;
  assert.deepEqual(efi.checksums, [{ algorithm: 'SHA256', checksumValue: '1'.repeat(64) }]);

  const rel = doc.relationships;
  assert.deepEqual(rel[0], {
    spdxElementId: 'SPDXRef-DOCUMENT',
    relationshipType: 'DESCRIBES',
    relatedSpdxElement: 'SPDXRef-Image',
  });
  for (const r of ['busybox', 'core0', 'linux', 'redis']) {
    const id = byName.get(r)!.SPDXID;
    assert.ok(
      rel.some(
        (x) => x.spdxElementId === 'SPDXRef-Image' && x.relationshipType === 'CONTAINS' && x.relatedSpdxElement === id,
      ),
      r,
    );
  }
  for (const a of ['zos.efi', 'netboot/vmlinuz', 'initramfs.cpio.xz']) {
    const id = byName.get(a)!.SPDXID;
    assert.match(id, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.ok(
      rel.some((x) => x.spdxElementId === id && x.relationshipType === 'GENERATED_FROM'),
      a,
    );
  }
  const ids = doc.packages.map((p) => p.SPDXID);
  assert.equal(new Set(ids).size, ids.length, 'SPDXIDs are unique');
  for (const r of rel) {
    assert.ok(r.spdxElementId === 'SPDXRef-DOCUMENT' || ids.includes(r.spdxElementId));
    assert.ok(ids.includes(r.relatedSpdxElement));
  }
});

test('purls encode versions and sort qualifiers', () => {
  assert.equal(
    genericPurl('zos', '1.0.0-dev.3+gabc', { z: 'x y', a: undefined, b: '1' }),
    'pkg:generic/zos@1.0.0-dev.3%2Bgabc?b=1&z=x%20y',
  );
});

test("the kernel is the manifest's kernel recipe, whatever its name", () => {
  const m = sampleManifest();
  for (const r of m.recipes) if (r.name === 'linux') r.name = 'linux-lts';
  m.kernel.recipe = 'linux-lts';
  const byName = new Map(spdxSbom(m).packages.map((p) => [p.name, p]));
  assert.equal(byName.get('linux-lts')!.primaryPackagePurpose, 'OPERATING_SYSTEM');
  assert.match(byName.get('linux-lts')!.comment!, /kernel release 6\.1\.100-zos-1\.2\.3/);
  assert.equal(byName.get('busybox')!.primaryPackagePurpose, 'APPLICATION');
});

test('every CPE name the recipes state is a well-formed CPE 2.3 name of the upstream version', async () => {
  const recipes = await loadRecipes();
  const named = [...recipes.values()].filter((r) => r.cpe);
  assert.ok(named.length >= 15, `only ${named.length} recipes state a CPE name`);
  for (const r of named) {
    const name = cpeName(r)!;
    const [, , part, vendor, product, version, ...rest] = name.split(/(?<!\\):/);
    assert.equal(part, r.provides.includes('kernel') ? 'o' : 'a', name);
    assert.deepEqual([vendor, product], [r.cpe!.vendor, r.cpe!.product], name);
    assert.deepEqual(rest, ['*', '*', '*', '*', '*', '*', '*'], name);
    // A Debian package version names its upstream release, without the Debian revision
    // (`-9+deb12u14`, `-1+b1`, `-5.1`), which no vulnerability database lists.
    const upstream = version!.replace(/\\/g, '');
    assert.ok(r.version.startsWith(upstream), `${r.name}: ${name}`);
    assert.doesNotMatch(upstream, /-\d+(\.\d+)?(\+(deb\d+u\d+|b\d+))?$/, `${r.name}: ${name}`);
  }
});
