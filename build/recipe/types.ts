import type { RecipeCpe } from './cpe.js';
import type { StepLog } from '../util/exec.js';
import type { ArchFacts } from '../arch.js';
import type { Profile } from '../profile/types.js';

/**
 * Where a source file can be downloaded, tried in order after the user's mirrors:
 * - `https://...` / `http://...`: an upstream URL, used as is;
 * - `debian:pool/main/b/busybox/busybox_1.35.0.orig.tar.bz2`: a path in Debian's archive, resolved
 *   against the archive the host's apt uses (or --debian-mirror).
 * `${version}` in a location (and in the file name) is replaced by the recipe's version.
 */
export type Location = string;

/**
 * How a source is unpacked: `archive` (tar, the default) becomes the source tree (the first one) or
 * extra/<file>/; `file` is copied into the tree as is; `deb` is a Debian binary package whose files
 * are unpacked into deb/ of the tree (several .debs share it).
 */
export type SourceKind = 'archive' | 'file' | 'deb';

export interface Source {
  /** File name in the download cache and on mirrors (`<mirror>/<file>`); may use `${version}`. */
  file: string;
  sha256: string;
  locations: Location[];
  /** Default `archive`, or `file` when `extract: false`. */
  kind?: SourceKind;
  /** Extract into the source dir (default true); otherwise the file is placed there as is. */
  extract?: boolean;
  /** Leading path components to drop when extracting (default 1: the usual `name-1.2.3/`). */
  stripComponents?: number;
}

/** What a dependency hands to the recipes that depend on it. */
export interface DependencyOutput {
  /** Files this dependency installs into the image. */
  rootfs: string;
  /** Files for other recipes only (headers, config, sysroot); never in the image. */
  export: string;
  /** Boot files (kernel image); consumed by image and artifact writers. */
  boot: string;
}

export interface BuildContext {
  recipe: Recipe;
  profile: Profile;
  /** Absolute path of the repository (recipes, config, kernel, agent...). */
  repoDir: string;
  /** Extracted sources; the build may write here (it is private to this step). */
  srcDir: string;
  /** Scratch space, deleted after a successful build. */
  workDir: string;
  /** Outputs, laid out like DependencyOutput; empty when the build starts. */
  out: DependencyOutput;
  /** Outputs of every recipe this one depends on, directly or not, by name. */
  deps: Record<string, DependencyOutput>;
  /**
   * The merged `export/sysroot` of the dependency closure (headers, static libraries, .pc files,
   * kernel UAPI headers): what C builds compile and link against. Private to this step.
   */
  sysroot: string;
  /** Facts of the profile's target architecture (build/arch.ts). */
  arch: ArchFacts;
  /** How many parallel jobs this step may use (`make -j`). */
  jobs: number;
  /** Environment that makes builds reproducible (SOURCE_DATE_EPOCH, locale, TZ, ...). */
  env: Record<string, string>;
  /** The project's version (semver), e.g. for `-X main.version`; empty unless stampsProjectVersion. */
  version: string;
  /** The recipe's profile-chosen values (see RecipeSettings.values). */
  values: Record<string, unknown>;
  log: StepLog;
  run(
    cmd: string,
    args: readonly string[],
    opts?: { cwd?: string; env?: Record<string, string>; input?: string | Buffer },
  ): Promise<void>;
}

export type BuildFn = (ctx: BuildContext) => Promise<void>;

/** The inputs a recipe takes from the profile; they are part of its fingerprint. */
export interface RecipeSettings {
  /** Repository-relative files or folders read by the build (config files, fragments, local source). */
  files: string[];
  /** Any other JSON value the build depends on (options chosen by the profile). */
  values: Record<string, unknown>;
}

export interface RecipeSpec {
  name: string;
  version: string;
  /** SPDX license expression. */
  license: string;
  /** License texts inside the source tree, shipped with releases. */
  licenseFiles?: string[];
  description: string;
  homepage?: string;
  /** Its name in the NVD's CPE dictionary, for the release SBOM (build/recipe/cpe.ts). */
  cpe?: RecipeCpe;
  sources?: Source[];
  /** Recipes this one builds against; their sysroot exports are visible to the build. */
  dependencies?: string[];
  /** Patch files in the recipe's folder, applied in order with `patch -p1` after extraction. */
  patches?: string[];
  /**
   * Roles this recipe fills, found by role rather than by name: `kernel`, `kernel-headers`,
   * `bootloader` (iPXE binaries), `init` (the image's PID 1). See build/recipe/roles.ts.
   */
  provides?: string[];
  /**
   * The output embeds the project's version and release date (the agent's version string). Other
   * recipes (the kernel too) are built with a fixed SOURCE_DATE_EPOCH and no version, so a new
   * commit does not rebuild them.
   */
  stampsProjectVersion?: boolean;
  /**
   * The output depends on the build variant (release strips, debug keeps symbols or turns on debug
   * flags): the variant enters the fingerprint. A recipe without it that reads `profile.variant`
   * fails, so a variant change rebuilds exactly the recipes it can change.
   */
  usesVariant?: boolean;
  /**
   * Nothing needs this component before the agent runs (command tools and their libraries): its
   * files reach the node as a read-only squashfs image that core0 mounts at start, read on demand,
   * instead of files the kernel decompresses into RAM at every boot (build/image/mounted.ts). Files
   * under etc/ and var/ stay ordinary files. Default: false, unpacked by the kernel (what /init and
   * core0 use before the mount: busybox, kmod, modules, firmware, core0, redis).
   */
  mounted?: boolean;
  /** Host commands whose version changes the output (their `--version` enters the fingerprint). */
  hostTools?: string[];
  /** Inputs chosen by the profile; default: none. */
  settings?: (profile: Profile) => Partial<RecipeSettings>;
  build: BuildFn;
}

export interface Recipe extends Required<Omit<RecipeSpec, 'homepage' | 'cpe' | 'settings'>> {
  homepage?: string;
  cpe?: RecipeCpe;
  settings: (profile: Profile) => RecipeSettings;
  /** The recipe's own file, absolute; its bytes enter the fingerprint. */
  file: string;
}
