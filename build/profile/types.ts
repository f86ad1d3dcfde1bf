export const COMPRESSIONS = ['xz', 'zstd', 'gzip', 'lz4'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const RUNMODES = ['prod', 'test', 'dev', 'qa'] as const;
export type Runmode = (typeof RUNMODES)[number];

export const ARTIFACTS = ['efi', 'netboot', 'usb', 'usb-netboot', 'iso'] as const;
export type ArtifactKind = (typeof ARTIFACTS)[number];

export interface ProfileSpec {
  name: string;
  description: string;
  /** Target CPU architecture, a key of build/arch.ts ARCHES (default x86_64). */
  arch?: string;
  kernel: {
    /** The kconfig target the config starts from. */
    base: 'tinyconfig' | 'defconfig';
    /** Repository-relative fragment files merged in order on top of the base. */
    fragments: string[];
    /** Build loadable modules (installed under /lib/modules in the image). */
    modules?: boolean;
  };
  /** Recipes whose files make up the image's root filesystem. */
  packages: string[];
  compression: Compression;
  /** Kernel command line baked into boot artifacts (besides `rdinit=/init`). */
  cmdline: string;
  /** release strips binaries and leaves docs/headers out; debug keeps symbols and debug logging. */
  variant: 'release' | 'debug';
  agent: {
    /**
     * Operator public keys (`ed25519:<base64url>`, see build/agent-client/operator-key.ts) baked into the
     * agent's config: tokens signed by their private halves open the management port. Public material
     * only; `zos.keys=` on the kernel command line overrides them.
     */
    operatorKeys?: string[];
    /** Explicitly allow a node without operator keys and TLS (development only; announced at boot). */
    insecureDev?: boolean;
  };
  netboot: {
    baseUrl: string;
    runmode: Runmode;
    farmId: string;
    extraArgs: string;
  };
  /** Boot artifacts written besides vmlinuz and the initramfs. */
  artifacts: ArtifactKind[];
}

export interface Profile extends ProfileSpec {
  arch: string;
  /** The profile's file, absolute. */
  file: string;
}
