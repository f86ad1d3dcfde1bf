import { join, resolve } from 'node:path';
import { SourceStore } from '../cache/source-store.js';
import { StepStore } from '../cache/step-store.js';
import { hostDebianArchive } from '../fetch/debian.js';
import { defaultFetchOptions } from '../fetch/fetch-source.js';
import { fingerprintGraph } from '../graph/fingerprint.js';
import { HostToolVersions } from '../graph/inputs.js';
import { defaultCacheDir } from '../paths.js';
import { planBuild, type Plan } from '../plan/plan.js';
import { loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/types.js';
import { loadRecipes } from '../recipe/load.js';
import type { BuildEnv } from '../recipe/step.js';
import type { Recipe } from '../recipe/types.js';
import { buildIdentity, type BuildIdentity } from '../version.js';
import { type ArtifactOptions, artifactSteps } from '../plan/artifact-steps.js';
import { readNetbootVerifyKey } from '../artifacts/netboot-verify.js';

/** Options every build-related command shares. */
export interface CommonArgs {
  profile: string;
  jobs: number;
  out: string;
  cacheDir?: string;
  offline: boolean;
  verbose: boolean;
  mirror: string[];
  debianMirror?: string;
  remoteCache?: string;
  remoteCacheReadOnly: boolean;
  variant?: 'release' | 'debug';
  insecureDev: boolean;
  /** Public OpenPGP key the netboot GRUBs embed and verify against (verified network boot). */
  netbootVerifyKey?: string;
}

/** Options of commands that compile; they change how fast, never what is built. */
export interface CompileArgs {
  /** undefined: on when ccache is installed. */
  ccache?: boolean;
  ccacheDir?: string;
  ccacheRemote?: string;
  distcc?: string;
}

export const DEFAULT_PROFILE = 'generic';

/** Everything a command needs to reason about a build, loaded once. */
export interface Session {
  args: CommonArgs;
  recipes: Map<string, Recipe>;
  profile: Profile;
  identity: BuildIdentity;
  env: BuildEnv;
  /** What only the artifact steps see (--netboot-verify-key; `build` adds its --sign-key signer). */
  artifactOptions: ArtifactOptions;
  plan: Plan;
  cacheDir: string;
  outRoot: string;
  outDir: string;
  logDir: string;
  steps: StepStore;
  hostTools: HostToolVersions;
}

/** Command-line choices that override the profile (they enter fingerprints like any profile value). */
function applyOverrides(profile: Profile, args: CommonArgs): Profile {
  return {
    ...profile,
    variant: args.variant ?? profile.variant,
    agent: args.insecureDev ? { ...profile.agent, insecureDev: true } : profile.agent,
  };
}

export async function openSession(args: CommonArgs): Promise<Session> {
  const cacheDir = resolve(args.cacheDir ?? defaultCacheDir());
  const outRoot = resolve(args.out);
  // Independent: recipes (module imports), git (child processes), apt's sources. Started together.
  const [recipes, identity, debianArchive] = await Promise.all([
    loadRecipes(),
    buildIdentity(),
    args.debianMirror ?? hostDebianArchive(),
  ]);
  const profile = applyOverrides(await loadProfile(args.profile, recipes), args);
  const hostTools = new HostToolVersions(join(cacheDir, 'host-tools.json'));
  const env: BuildEnv = {
    profile,
    version: identity.version,
    epoch: identity.epoch,
    sources: new SourceStore(join(cacheDir, 'sources')),
    fetch: {
      ...defaultFetchOptions,
      offline: args.offline,
      mirrors: args.mirror,
      debianArchive,
    },
    hostTools,
  };
  const netbootVerify = args.netbootVerifyKey ? await readNetbootVerifyKey(resolve(args.netbootVerifyKey)) : undefined;
  return {
    args,
    recipes,
    profile,
    identity,
    env,
    artifactOptions: { netbootVerify },
    plan: planBuild(env, recipes, (e, roles) => artifactSteps(e, roles, { netbootVerify })),
    cacheDir,
    outRoot,
    outDir: join(outRoot, profile.name),
    logDir: join(outRoot, 'logs', profile.name),
    steps: new StepStore(cacheDir),
    hostTools,
  };
}

export async function fingerprints(s: Session): Promise<Map<string, string>> {
  const fps = await fingerprintGraph(s.plan.graph);
  await s.hostTools.save();
  return fps;
}
