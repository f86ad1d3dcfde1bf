import type { Manifest } from '../publish/out-dir.js';
import { sha256Json } from '../util/hash.js';
import { primaryUrl, resolveLocation } from './sources.js';

/**
 * An SPDX 2.3 JSON software bill of materials of one built image, made from its manifest.json.
 *
 * Deterministic: the same manifest gives the same bytes. `created` is SOURCE_DATE_EPOCH (not the
 * time the SBOM was written) and the document namespace is derived from the profile, version and
 * output fingerprint instead of a random UUID, so a reproduced build reproduces its SBOM too.
 *
 * Model: the image is one package (SPDXRef-Image) that the document DESCRIBES and that CONTAINS
 * one package per recipe (linux, busybox, redis, core0, ipxe...). Each published artifact
 * (zos.efi, netboot/vmlinuz, ...) is a package of its own, with its SHA256, GENERATED_FROM the
 * image. Artifacts are packages rather than SPDX files because SPDX 2.3 requires a SHA1 for every
 * file and the manifest carries SHA256 only.
 */

export interface SpdxChecksum {
  algorithm: 'SHA256' | 'SHA1';
  checksumValue: string;
}

export interface SpdxExternalRef {
  referenceCategory: 'PACKAGE-MANAGER' | 'SECURITY' | 'PERSISTENT-ID' | 'OTHER';
  referenceType: string;
  referenceLocator: string;
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  packageFileName?: string;
  supplier?: string;
  downloadLocation: string;
  filesAnalyzed: boolean;
  checksums?: SpdxChecksum[];
  homepage?: string;
  sourceInfo?: string;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  summary?: string;
  comment?: string;
  externalRefs?: SpdxExternalRef[];
  primaryPackagePurpose?: string;
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'CONTAINS' | 'GENERATED_FROM';
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment?: string };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
}

/** Details a manifest does not carry, taken from the recipe definitions when the caller has them. */
export interface RecipeDetails {
  description?: string;
  homepage?: string;
}

export interface SbomOptions {
  /** Base URL `debian:` locations resolve against (default: the public Debian archive). */
  debianArchive?: string;
  /** Prefix of the document namespace; the document's own part is appended. */
  namespaceBase?: string;
  /** Per-recipe description and homepage. */
  details?: Readonly<Record<string, RecipeDetails>>;
  /** Where the image itself can be downloaded (the release page); default NOASSERTION. */
  imageDownloadLocation?: string;
  /**
   * Download location of recipes built from this repository (no `sources`, e.g. core0), such as
   * `git+https://host/org/zos-build@<commit>`; default NOASSERTION.
   */
  projectSourceLocation?: string;
}

export const DEFAULT_NAMESPACE_BASE = 'https://zos-build.invalid/spdx';

const NOASSERTION = 'NOASSERTION';

/** `SPDXRef-` ids allow letters, digits, `.` and `-` only. */
export function spdxId(kind: string, name: string): string {
  return `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]+/g, '-')}`;
}

/** SOURCE_DATE_EPOCH as the `YYYY-MM-DDThh:mm:ssZ` that SPDX wants (no milliseconds). */
export function spdxDate(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Percent-encoding for purl components (RFC 3986 unreserved characters stay as they are). */
function purlEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A `pkg:generic` purl with its qualifiers in the sorted order the purl spec requires. */
export function genericPurl(name: string, version: string, qualifiers: Record<string, string | undefined>): string {
  const q = Object.entries(qualifiers)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${purlEncode(v)}`)
    .join('&');
  return `pkg:generic/${purlEncode(name)}@${purlEncode(version)}${q ? `?${q}` : ''}`;
}

function artifactPurpose(file: string): string {
  if (/\.(iso|img)$/.test(file)) return 'INSTALL';
  if (/\.cpio(\.[a-z0-9]+)?$/.test(file)) return 'ARCHIVE';
  if (/(^|\/)vmlinuz$|\.efi$|\.lkrn$|\.kpxe$/.test(file)) return 'OPERATING_SYSTEM';
  return 'FILE';
}

function uniqueIds(ids: string[]): string[] {
  const seen = new Map<string, number>();
  return ids.map((id) => {
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return n === 1 ? id : `${id}-${n}`;
  });
}

/** The document namespace: unique per image content, the same for every rebuild of it. */
export function documentNamespace(manifest: Manifest, base = DEFAULT_NAMESPACE_BASE): string {
  const tag = sha256Json([manifest.profile, manifest.version, manifest.fingerprint]).slice(0, 32);
  return `${base.replace(/\/+$/, '')}/zos-${purlEncode(manifest.profile)}-${purlEncode(manifest.version)}-${tag}`;
}

export function spdxSbom(manifest: Manifest, opts: SbomOptions = {}): SpdxDocument {
  const imageId = 'SPDXRef-Image';
  const recipes = [...manifest.recipes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const artifacts = [...manifest.artifacts].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const image: SpdxPackage = {
    SPDXID: imageId,
    name: `zos-${manifest.profile}`,
    versionInfo: manifest.version,
    supplier: NOASSERTION,
    downloadLocation: opts.imageDownloadLocation ?? NOASSERTION,
    filesAnalyzed: false,
    sourceInfo: `built by zos-build from commit ${manifest.commit}, profile ${manifest.profile}, SOURCE_DATE_EPOCH ${manifest.sourceDateEpoch}, output fingerprint ${manifest.fingerprint}`,
    // The image is an aggregate: each component below carries its own license.
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    summary: `Zero-OS boot image, profile ${manifest.profile}`,
    primaryPackagePurpose: 'OPERATING_SYSTEM',
  };

  const componentIds = uniqueIds(recipes.map((r) => spdxId('Package', r.name)));
  const components: SpdxPackage[] = recipes.map((r, i) => {
    const main = r.sources[0];
    const url = main ? primaryUrl(main, opts.debianArchive) : undefined;
    const details = opts.details?.[r.name];
    const refs: SpdxExternalRef[] = [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceType: 'purl',
        referenceLocator: genericPurl(r.name, r.version, {
          checksum: main ? `sha256:${main.sha256}` : undefined,
          download_url: url,
        }),
      },
    ];
    if (r.cpe) refs.push({ referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: r.cpe });
    const sourceLines = r.sources.map(
      (s) =>
        `${s.file} sha256:${s.sha256} from ${s.urls.map((u) => resolveLocation(u, opts.debianArchive)).join(' or ')}`,
    );
    const pkg: SpdxPackage = {
      SPDXID: componentIds[i]!,
      name: r.name,
      versionInfo: r.version,
      ...(main ? { packageFileName: main.file } : {}),
      supplier: NOASSERTION,
      downloadLocation:
        url ?? (r.sources.length === 0 && opts.projectSourceLocation ? opts.projectSourceLocation : NOASSERTION),
      filesAnalyzed: false,
      ...(main ? { checksums: [{ algorithm: 'SHA256' as const, checksumValue: main.sha256 }] } : {}),
      ...(details?.homepage ? { homepage: details.homepage } : {}),
      sourceInfo: sourceLines.length
        ? `built from ${sourceLines.join('; ')}`
        : `built from this repository at commit ${manifest.commit}`,
      licenseConcluded: r.license || NOASSERTION,
      licenseDeclared: r.license || NOASSERTION,
      copyrightText: NOASSERTION,
      ...(details?.description ? { summary: details.description } : {}),
      ...(r.name === manifest.kernel.recipe
        ? { comment: `kernel release ${manifest.kernel.release}; kernel config sha256 ${manifest.kernel.configSha256}` }
        : {}),
      externalRefs: refs,
      primaryPackagePurpose: r.name === manifest.kernel.recipe ? 'OPERATING_SYSTEM' : 'APPLICATION',
    };
    return pkg;
  });

  const artifactIds = uniqueIds(artifacts.map((a) => spdxId('Artifact', a.file)));
  const artifactPkgs: SpdxPackage[] = artifacts.map((a, i) => ({
    SPDXID: artifactIds[i]!,
    name: a.file,
    versionInfo: manifest.version,
    packageFileName: a.file,
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: a.sha256 }],
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    comment: `${a.size} bytes`,
    primaryPackagePurpose: artifactPurpose(a.file),
  }));

  const relationships: SpdxRelationship[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
    ...componentIds.map(
      (id): SpdxRelationship => ({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: id }),
    ),
    ...artifactIds.map(
      (id): SpdxRelationship => ({
        spdxElementId: id,
        relationshipType: 'GENERATED_FROM',
        relatedSpdxElement: imageId,
      }),
    ),
  ];

  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `zos-${manifest.profile}-${manifest.version}`,
    documentNamespace: documentNamespace(manifest, opts.namespaceBase),
    creationInfo: {
      created: spdxDate(manifest.sourceDateEpoch),
      creators: [`Tool: zos-build-${manifest.version}`],
      comment: "created is the build's SOURCE_DATE_EPOCH, so a reproduced build gives the same document",
    },
    packages: [image, ...components, ...artifactPkgs],
    relationships,
  };
}

/** The SBOM as written to disk: two-space indented JSON with a final newline. */
export function sbomJson(doc: SpdxDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
