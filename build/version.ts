import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { $ } from 'zx';
import { repoDir } from './paths.js';
import { ZosError } from './util/errors.js';

export interface BuildIdentity {
  /** Semver: `1.2.3` on a `v1.2.3` tag, else `<package.json version>-dev.<commits>+g<sha>`. */
  version: string;
  commit: string;
  /** SOURCE_DATE_EPOCH: env if set, else the commit's time (0 outside git). */
  epoch: number;
}

async function git(args: string[]): Promise<string | undefined> {
  const r = await $({ cwd: repoDir, quiet: true, nothrow: true, verbose: false })`git ${args}`;
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * Who this build is. `ZOS_VERSION` and `SOURCE_DATE_EPOCH` override git (release jobs that build
 * from an exported tree, or a developer pinning both to keep the agent cached across commits).
 */
export async function buildIdentity(): Promise<BuildIdentity> {
  const pkg = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as { version: string };
  const commit = (await git(['rev-parse', 'HEAD'])) ?? 'unknown';
  let version = process.env.ZOS_VERSION;
  if (!version) {
    const exact = await git(['describe', '--tags', '--exact-match', '--match', 'v[0-9]*', 'HEAD']);
    if (exact && semver.valid(exact.slice(1))) {
      version = exact.slice(1);
    } else {
      const count = (await git(['rev-list', '--count', 'HEAD'])) ?? '0';
      // After a release tag the next version is a patch up; before any tag, package.json's.
      const tagged = await latestTagVersion();
      const base = tagged ? semver.inc(tagged, 'patch')! : pkg.version;
      version = `${base}-dev.${count}+g${commit.slice(0, 7)}`;
    }
  }
  if (!semver.valid(version)) throw new ZosError(`version "${version}" is not semver`, 'Set ZOS_VERSION to something like 1.2.3 or 1.2.3-dev.4, or tag the commit vX.Y.Z.');
  const envEpoch = process.env.SOURCE_DATE_EPOCH;
  let epoch: number;
  if (envEpoch !== undefined) {
    epoch = Number(envEpoch);
    if (!Number.isInteger(epoch) || epoch < 0) throw new ZosError(`SOURCE_DATE_EPOCH="${envEpoch}" is not a whole number of seconds`);
  } else {
    epoch = Number((await git(['log', '-1', '--format=%ct'])) ?? '0') || 0;
  }
  return { version, commit, epoch };
}

async function latestTagVersion(): Promise<string | undefined> {
  const tag = await git(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*', 'HEAD']);
  return tag && semver.valid(tag.slice(1)) ? tag.slice(1) : undefined;
}
