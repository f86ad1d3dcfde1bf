import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { GpgSigner } from '../release/sign.js';
import { defaultJobs } from '../scheduler/run.js';
import type { CommonArgs, CompileArgs } from './session.js';
import { DEFAULT_PROFILE } from './session.js';

/** The options of every command that builds or inspects a profile. */
export function withCommonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('profile', {
      alias: 'p',
      type: 'string',
      default: DEFAULT_PROFILE,
      describe: 'build profile (config/<name>.ts)',
    })
    .option('jobs', {
      alias: 'j',
      type: 'number',
      default: defaultJobs(),
      describe: 'steps built at once, and make -j of each',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      default: 'out',
      describe: 'output root: artifacts go to <out>/<profile>/, logs to <out>/logs/<profile>/',
    })
    .option('cache-dir', {
      type: 'string',
      describe: 'download and step cache (default $ZOS_CACHE_DIR or $XDG_CACHE_HOME/zos-build)',
    })
    .option('offline', {
      type: 'boolean',
      default: false,
      describe: 'never download: use only the cache, fail naming what is missing',
    })
    .option('verbose', {
      alias: 'v',
      type: 'boolean',
      default: false,
      describe: 'plain line-per-event progress and more detail',
    })
    .option('mirror', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'mirror base URL tried first for every source (<mirror>/<file>); repeatable',
    })
    .option('debian-mirror', {
      type: 'string',
      describe: 'Debian archive base URL for debian: locations (default: the host apt sources)',
    })
    .option('variant', {
      type: 'string',
      choices: ['release', 'debug'],
      describe:
        "override the profile's variant: release strips binaries and drops docs/headers; debug keeps symbols and turns on the agent's debug log",
    })
    .option('insecure-dev', {
      type: 'boolean',
      default: false,
      describe: 'allow a node without operator keys or TLS (development only; the node says so at boot)',
    })
    .option('netboot-verify-key', {
      type: 'string',
      default: process.env.ZOS_NETBOOT_VERIFY_KEY || undefined,
      describe:
        'OpenPGP public key (gpg --export, RSA) that the netboot GRUBs embed: they boot only a kernel and initramfs signed by it; env ZOS_NETBOOT_VERIFY_KEY',
    })
    .option('remote-cache', {
      type: 'string',
      default: process.env.ZOS_REMOTE_CACHE,
      describe: 'HTTP base URL of a shared step cache (GET/PUT); env ZOS_REMOTE_CACHE',
    })
    .option('remote-cache-read-only', {
      type: 'boolean',
      default: process.env.ZOS_REMOTE_CACHE_READ_ONLY === '1',
      describe: 'use the remote cache but never upload (untrusted jobs); env ZOS_REMOTE_CACHE_READ_ONLY=1',
    })
    .check((argv) => {
      if (!Number.isInteger(argv.jobs) || argv.jobs < 1)
        throw new Error(`--jobs ${argv.jobs}: must be a whole number >= 1`);
      return true;
    }) as unknown as Argv<T & CommonArgs>;
}

/** Compiler caching and distribution for commands that compile (none of it enters fingerprints). */
export function withCompileOptions<T>(y: Argv<T>): Argv<T & CompileArgs> {
  return y
    .option('ccache', {
      type: 'boolean',
      default: process.env.ZOS_CCACHE === undefined ? undefined : process.env.ZOS_CCACHE !== '0',
      describe:
        'cache C/C++ compiles with ccache (default: on when ccache is installed; --no-ccache or ZOS_CCACHE=0: off)',
    })
    .option('ccache-dir', {
      type: 'string',
      default: process.env.ZOS_CCACHE_DIR,
      describe: "ccache's directory (default <cache-dir>/ccache); env ZOS_CCACHE_DIR",
    })
    .option('ccache-remote', {
      type: 'string',
      default: process.env.ZOS_CCACHE_REMOTE,
      describe: "ccache's remote_storage, e.g. http://host:8080/ccache or redis://host; env ZOS_CCACHE_REMOTE",
    })
    .option('distcc', {
      type: 'string',
      default: process.env.ZOS_DISTCC_HOSTS,
      describe:
        'compile on these distcc hosts (DISTCC_HOSTS syntax, e.g. "127.0.0.1:3632/4 box2"); env ZOS_DISTCC_HOSTS',
    })
    .check((argv) => {
      if (argv.ccacheRemote && argv.ccache === false)
        throw new Error('--ccache-remote needs ccache: drop --no-ccache (or ZOS_CCACHE=0)');
      return true;
    }) as unknown as Argv<T & CompileArgs>;
}

/** The GnuPG key that signs (release, sign-netboot): named by id; the secret stays in gpg's home. */
export interface GpgArgs {
  gpgKey?: string;
  gnupgHome?: string;
  gpgPassphraseFile?: string;
}

export function withGpgOptions<T>(y: Argv<T>, keyDescribe: string): Argv<T & GpgArgs> {
  return y
    .option('gpg-key', { type: 'string', default: process.env.ZOS_GPG_KEY || undefined, describe: keyDescribe })
    .option('gnupg-home', {
      type: 'string',
      describe: "GnuPG home holding the secret key (default: gpg's own, $GNUPGHOME or ~/.gnupg)",
    })
    .option('gpg-passphrase-file', {
      type: 'string',
      describe: "file with the key's passphrase, if it has one (never give the passphrase itself on the command line)",
    }) as unknown as Argv<T & GpgArgs>;
}

/** The signer named by --gpg-key (or `key`), undefined when no key is given. */
export function gpgSigner(a: GpgArgs, key = a.gpgKey): GpgSigner | undefined {
  if (!key) return undefined;
  return {
    key,
    ...(a.gnupgHome ? { gnupgHome: resolve(a.gnupgHome) } : {}),
    ...(a.gpgPassphraseFile ? { passphraseFile: resolve(a.gpgPassphraseFile) } : {}),
  };
}

/** Secure Boot signing of the boot artifacts (docs/secure-boot.md); paths only, never key contents. */
export interface SigningArgs {
  signKey?: string;
  signCert?: string;
}

export function withSigningOptions<T>(y: Argv<T>): Argv<T & SigningArgs> {
  return y
    .option('sign-key', {
      type: 'string',
      default: process.env.ZOS_SIGN_KEY || undefined,
      describe: 'Secure Boot: PEM private key (unencrypted) that signs every EFI binary; env ZOS_SIGN_KEY',
    })
    .option('sign-cert', {
      type: 'string',
      default: process.env.ZOS_SIGN_CERT || undefined,
      describe: 'Secure Boot: PEM certificate of --sign-key (enrolled in the firmware db); env ZOS_SIGN_CERT',
    }) as unknown as Argv<T & SigningArgs>;
}
