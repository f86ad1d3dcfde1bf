import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import inc from 'semver/functions/inc.js';
import valid from 'semver/functions/valid.js';
import { execFile } from 'node:child_process';
import { repoDir } from './paths.js';
import { ZosError } from './util/errors.js';

export interface BuildIdentity {
  /** Semver: `1.2.3` on a `v1.2.3` tag, else `<package.json version>-dev.<commits>+g<sha>`. */
  version: string;
  commit: string;
  /** SOURCE_DATE_EPOCH: env if set, else the commit's time (0 outside git). */
  epoch: number;
}

/** A git query's trimmed output, or undefined when git fails (no repository, no tag...). */
function git(args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: repoDir }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

/**
 * Who this build is. `ZOS_VERSION` and `SOURCE_DATE_EPOCH` override git (release jobs that build
 * from an exported tree, or a developer pinning both to keep the agent cached across commits).
 */
export async function buildIdentity(): Promise<BuildIdentity> {
  const pkg = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as { version: string };
  let version = process.env.ZOS_VERSION;
  // Every git query at once: a no-op build waits for the slowest one, not for their sum.
  const [head, exact, count, tagged] = await Promise.all([
    git(['log', '-1', '--format=%H %ct']),
    version ? undefined : git(['describe', '--tags', '--exact-match', '--match', 'v[0-9]*', 'HEAD']),
    version ? undefined : git(['rev-list', '--count', 'HEAD']),
    version ? undefined : latestTagVersion(),
  ]);
  const [commit = 'unknown', commitTime = '0'] = head?.split(' ') ?? [];
  if (!version) {
    if (exact && valid(exact.slice(1))) {
      version = exact.slice(1);
    } else {
      // After a release tag the next version is a patch up; before any tag, package.json's.
      const base = tagged ? inc(tagged, 'patch')! : pkg.version;
      version = `${base}-dev.${count ?? '0'}+g${commit.slice(0, 7)}`;
    }
  }
  if (!valid(version))
    throw new ZosError(
      `version "${version}" is not semver`,
      'Set ZOS_VERSION to something like 1.2.3 or 1.2.3-dev.4, or tag the commit vX.Y.Z.',
    );
  const envEpoch = process.env.SOURCE_DATE_EPOCH;
  let epoch: number;
  if (envEpoch !== undefined) {
    epoch = Number(envEpoch);
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new ZosError(`SOURCE_DATE_EPOCH="${envEpoch}" is not a whole number of seconds`);
  } else {
    epoch = Number(commitTime) || 0;
  }
  return { version, commit, epoch };
}

async function latestTagVersion(): Promise<string | undefined> {
  const tag = await git(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*', 'HEAD']);
  return tag && valid(tag.slice(1)) ? tag.slice(1) : undefined;
}
