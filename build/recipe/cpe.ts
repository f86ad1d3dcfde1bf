import { DefinitionError } from '../util/errors.js';
import { rejectUnknownFields, requireObject } from '../util/fields.js';

/**
 * A component's name in the NVD's CPE dictionary, so the SBOM of a release can be matched against
 * vulnerability databases (what Buildroot's `<PKG>_CPE_ID_VENDOR` / `_PRODUCT` give). The names
 * are the NVD's, not ours: `kernel` is the vendor of util-linux, kmod and ethtool, `facebook` and
 * `zstandard` those of zstd.
 */
export interface RecipeCpe {
  vendor: string;
  product: string;
  /**
   * The upstream version the NVD lists, when the recipe's version is a Debian package's
   * (`2.36` for glibc `2.36-9+deb12u14`); it must be the start of the recipe's version. Default: the
   * recipe's version.
   */
  version?: string;
}

const CPE_FIELDS: Record<keyof RecipeCpe, true> = { vendor: true, product: true, version: true };
/** Lowercase, as in the NVD dictionary; CPE 2.3 would escape anything else. */
const CPE_NAME_RE = /^[a-z0-9][a-z0-9_.-]*$/;

/** Checks a recipe's `cpe` field; undefined when the recipe has none. */
export function validateCpe(value: unknown, version: string, file: string): RecipeCpe | undefined {
  if (value === undefined) return undefined;
  requireObject(file, 'cpe', value);
  rejectUnknownFields(file, 'cpe', value, CPE_FIELDS);
  for (const key of ['vendor', 'product'] as const) {
    const v = value[key];
    if (typeof v !== 'string' || !CPE_NAME_RE.test(v)) {
      const problem = `${JSON.stringify(v)} must be the NVD's name: lowercase letters, digits, _ . -`;
      throw new DefinitionError(file, `cpe.${key}`, problem, 'Look it up at https://nvd.nist.gov/products/cpe/search');
    }
  }
  const v = value.version;
  if (v !== undefined && (typeof v !== 'string' || v === '' || !version.startsWith(v))) {
    const problem = `${JSON.stringify(v)} must be the upstream part at the start of version "${version}"`;
    throw new DefinitionError(file, 'cpe.version', problem);
  }
  return value as unknown as RecipeCpe;
}

/**
 * The CPE 2.3 formatted string of a recipe, e.g. `cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*`.
 * The kernel is part `o` (operating system), everything else `a` (application).
 */
export function cpeName(r: { version: string; cpe?: RecipeCpe; provides: readonly string[] }): string | undefined {
  if (!r.cpe) return undefined;
  const part = r.provides.includes('kernel') ? 'o' : 'a';
  // Characters other than letters, digits, `_`, `-` and `.` are escaped with a backslash.
  const version = (r.cpe.version ?? r.version).replace(/[^A-Za-z0-9._-]/g, (c) => `\\${c}`);
  return `cpe:2.3:${part}:${r.cpe.vendor}:${r.cpe.product}:${version}:*:*:*:*:*:*:*`;
}
