import { lstat, open } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { join } from 'node:path';
import { ARCHES } from '../arch.js';
import type { BuildContext, BuildFn } from '../recipe/types.js';
import { stripIfRelease } from './strip.js';
import { splitStage, unrootPkgConfig } from './sysroot.js';
import { muslToolchain, type Toolchain } from './toolchain.js';

/**
 * What every build kind (autotools, meson, cmake, makeKind, goBuild) accepts. A recipe states only
 * what differs from the kind's defaults, in the spirit of Buildroot's package infrastructures.
 */
export interface KindOptions {
  /** Extra arguments of the configure step (autotools: ./configure; makeKind: the configure command). */
  configure?: string[];
  /** Extra arguments of the setup step (meson setup, cmake -S -B). */
  args?: string[];
  /** Extra environment of every command. */
  env?: Record<string, string>;
  /** Extra make (or ninja) arguments, for the build and the install. */
  make?: string[];
  /** Install targets (default ['install']). */
  installTargets?: string[];
  /** Globs (relative to the image root) of installed files the image keeps; default all but development files. */
  keep?: string[];
  /** Globs of installed files left out of the image, e.g. 'usr/share/**'. */
  drop?: string[];
  /** Appended to CFLAGS / LDFLAGS. */
  cflags?: string;
  ldflags?: string;
  /** Subdirectory of the source tree to build in (default: its top). */
  subdir?: string;
  /**
   * Runs after the install, before the split (Buildroot's POST_INSTALL hooks): e.g. a config file
   * written into `stage` from the recipe's settings.
   */
  postInstall?: (k: KindRun) => Promise<void>;
}

/** A build function made by a kind; the recipe step adds its host tools to the fingerprint. */
export type KindBuild = BuildFn & {
  kind: string;
  hostTools: readonly string[];
  /** Every kind strips ELF files in release images, so its recipes' outputs depend on the variant. */
  usesVariant: true;
};

export interface KindRun {
  ctx: BuildContext;
  tc: Toolchain;
  /** Where the build installs (DESTDIR); split into sysroot export and rootfs afterwards. */
  stage: string;
  /** Where the build runs: the source tree, or its `subdir`. */
  dir: string;
  /** Runs a command in `dir` with the toolchain's and the recipe's environment. */
  run(cmd: string, args: readonly string[], opts?: { cwd?: string; env?: Record<string, string> }): Promise<void>;
}

/** The build machine's GNU triplet (autotools --build), from the same table as the target's. */
export function buildTriplet(): string {
  const name = hostArch() === 'x64' ? 'x86_64' : hostArch() === 'arm64' ? 'aarch64' : hostArch();
  return ARCHES[name]?.gnuTriplet ?? `${name}-linux-gnu`;
}

async function isElf(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf.toString('latin1') === '\x7fELF';
  } finally {
    await fh.close();
  }
}

/**
 * Makes a kind: `body` configures, builds and installs into `stage`; then the staged install is
 * split (development files to export/sysroot, the rest filtered by keep/drop to rootfs) and, in
 * release images, ELF files in rootfs are stripped.
 */
export function defineKind(
  kind: string,
  hostTools: readonly string[],
  opts: KindOptions,
  body: (k: KindRun) => Promise<void>,
): KindBuild {
  const fn = async (ctx: BuildContext): Promise<void> => {
    const tc = muslToolchain(ctx, { cflags: opts.cflags, ldflags: opts.ldflags });
    const stage = join(ctx.workDir, 'stage');
    const dir = opts.subdir ? join(ctx.srcDir, opts.subdir) : ctx.srcDir;
    const env = { ...tc.env, ...opts.env };
    const k: KindRun = {
      ctx,
      tc,
      stage,
      dir,
      run: (cmd, args, o = {}) => ctx.run(cmd, args, { cwd: o.cwd ?? dir, env: { ...env, ...o.env } }),
    };
    await body(k);
    await opts.postInstall?.(k);
    const split = { keep: opts.keep, drop: opts.drop, recipe: ctx.recipe.name };
    const kept = await splitStage(stage, join(ctx.out.export, 'sysroot'), ctx.out.rootfs, split);
    await unrootPkgConfig(join(ctx.out.export, 'sysroot'), ctx.sysroot);
    const elves: string[] = [];
    // Regular files only: a kept symlink (Debian's absolute lib64/ld-linux-x86-64.so.2) is not ours to strip.
    for (const file of kept.map((r) => join(ctx.out.rootfs, r))) {
      if ((await lstat(file)).isFile() && (await isElf(file))) elves.push(file);
    }
    await stripIfRelease(ctx, elves);
  };
  return Object.assign(fn, {
    kind,
    hostTools: [...new Set([...hostTools, 'strip'])].sort(),
    usesVariant: true as const,
  });
}
