import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
import { ZosError } from '../../build/util/errors.js';

// Mozilla's CA bundle as Debian 12 ships it (one PEM file per CA in
// /usr/share/ca-certificates/mozilla/). Debian builds /etc/ssl/certs/ca-certificates.crt at install time
// (update-ca-certificates); this recipe does the same concatenation, in file name order, so TLS clients
// in the image (the agent, curl-like tools) find the bundle where Go and OpenSSL look first.
// The package is data only (Architecture: all). The bookworm-security update lives outside the main
// archive, hence its https URL; the Debian source tarball (ca-certificates_20250419~deb12u2.tar.xz)
// answers 404 here, and building from it needs python3-cryptography, so the .deb is the input.
const BUNDLE_DIR = 'deb/usr/share/ca-certificates/mozilla';

export default defineRecipe({
  name: 'ca-certificates',
  version: '20250419~deb12u2',
  license: 'MPL-2.0 AND GPL-2.0-or-later',
  licenseFiles: ['deb/usr/share/doc/ca-certificates/copyright'],
  description: 'Mozilla CA bundle at /etc/ssl/certs/ca-certificates.crt',
  homepage: 'https://wiki.mozilla.org/CA',
  sources: [
    {
      // A cache file name may not contain '~' (the recipe validator's rule): '-' stands in for it.
      file: 'ca-certificates_20250419-deb12u2_all.deb',
      sha256: 'b9f76b5271a7ac373fd5e7e1b5b826a71ddd702b42a0d104955ecb1acfffc94b',
      locations: [
        'https://deb.debian.org/debian-security/pool/updates/main/c/ca-certificates/' +
          'ca-certificates_20250419%7edeb12u2_all.deb',
        'https://snapshot.debian.org/file/a629617be57f8b5b330487277c650262e0a79e8f',
      ],
      kind: 'deb',
    },
  ],
  async build(ctx) {
    const dir = join(ctx.srcDir, BUNDLE_DIR);
    // Plain code point order, independent of the locale, as `LC_ALL=C sort` would give.
    const names = (await readdir(dir)).filter((n) => n.endsWith('.crt')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0)
      throw new ZosError(
        `recipe ca-certificates: no .crt files in ${BUNDLE_DIR} of the .deb`,
        'The package layout changed: check the pinned .deb, or point BUNDLE_DIR at its certificates.',
      );
    const pems = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
    const out = join(ctx.out.rootfs, 'etc/ssl/certs');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'ca-certificates.crt'), pems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''));
  },
});
