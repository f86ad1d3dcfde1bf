import { writers } from '../artifacts/index.js';
import { makeGraph } from '../graph/graph.js';
import type { Graph, Step } from '../graph/types.js';
import { INITRAMFS_STEP, initramfsStep, layerStep } from '../image/step.js';
import type { Profile } from '../profile/types.js';
import { providerOf } from '../recipe/roles.js';
import { recipeStep, recipeStepId, stampOf, type BuildEnv } from '../recipe/step.js';
import type { Recipe } from '../recipe/types.js';

/** The recipes that fill the roles a profile needs (see build/recipe/roles.ts). */
export interface PlanRoles {
  kernel: string;
  /** Only when an artifact boots iPXE (netboot, usb-netboot). */
  bootloader?: string;
}

export interface Plan {
  graph: Graph;
  /** The steps whose outputs make up out/<profile>/ (the rest are only their inputs). */
  finals: string[];
  /** Recipes this profile builds, by name. */
  recipes: Map<string, Recipe>;
  roles: PlanRoles;
}

/** Whether the profile writes an artifact that boots iPXE, and so needs a `bootloader` recipe. */
export function needsBootloader(profile: Pick<Profile, 'artifacts'>): boolean {
  return profile.artifacts.some((a) => writers[a].reads.bootloader);
}

/** Finds the recipes of every role the profile needs; an error names the profile when one is missing or ambiguous. */
export function planRoles(profile: Profile, recipes: ReadonlyMap<string, Recipe>): PlanRoles {
  return {
    kernel: providerOf('kernel', profile, recipes).name,
    ...(needsBootloader(profile) ? { bootloader: providerOf('bootloader', profile, recipes).name } : {}),
  };
}

/** Every recipe `name` depends on, directly or not, dependencies before dependents (stable order). */
export function dependencyClosure(name: string, recipes: ReadonlyMap<string, Recipe>): string[] {
  const out: string[] = [];
  const visit = (n: string): void => {
    for (const d of [...recipes.get(n)!.dependencies].sort()) {
      if (out.includes(d)) continue;
      visit(d);
      if (!out.includes(d)) out.push(d);
    }
  };
  visit(name);
  return out;
}

/**
 * The recipes whose rootfs go into the image: each package after what it depends on (Debian binaries
 * bring glibc-runtime, e2fsprogs brings util-linux's tools), then the kernel when it builds modules.
 * Dependencies that only export to the sysroot (headers, static libraries) add no file.
 */
export function imageLayers(profile: Profile, recipes: ReadonlyMap<string, Recipe>, kernel: string): string[] {
  const out: string[] = [];
  for (const pkg of profile.packages) {
    for (const r of [...dependencyClosure(pkg, recipes), pkg]) if (!out.includes(r)) out.push(r);
  }
  if (profile.kernel.modules && !out.includes(kernel)) out.push(kernel);
  return out;
}

/** Recipes the profile needs: the kernel, its packages, and what they depend on. */
export function recipeClosure(
  profile: Profile,
  recipes: ReadonlyMap<string, Recipe>,
  extra: readonly string[] = [],
): Map<string, Recipe> {
  const out = new Map<string, Recipe>();
  const visit = (name: string): void => {
    if (out.has(name)) return;
    const r = recipes.get(name)!;
    out.set(name, r);
    r.dependencies.forEach(visit);
  };
  [...profile.packages, ...extra].forEach(visit);
  return out;
}

/**
 * One declarative profile in, one graph of steps out (LinuxKit style): a step per recipe, a step per
 * image layer (its compressed piece of the initramfs), the initramfs, then one step per boot artifact
 * the profile asks for.
 */
export function planBuild(
  env: BuildEnv,
  recipes: ReadonlyMap<string, Recipe>,
  artifactSteps: (env: BuildEnv, roles: PlanRoles) => Step[] = () => [],
): Plan {
  const roles = planRoles(env.profile, recipes);
  const used = recipeClosure(env.profile, recipes, [roles.kernel, ...(roles.bootloader ? [roles.bootloader] : [])]);
  const steps: Step[] = [...used.values()].map((r) => recipeStep(r, env, dependencyClosure(r.name, recipes)));
  const layers = imageLayers(env.profile, recipes, roles.kernel);
  // A layer's files keep their recipe's timestamp: a new commit repacks only what carries the version.
  steps.push(
    ...layers.map((r) => layerStep(recipes.get(r)!, env.profile, stampOf(recipes.get(r)!, env).epoch, env.hostTools)),
  );
  steps.push(initramfsStep({ profile: env.profile, version: env.version, epoch: env.epoch, layers }));
  const artifacts = artifactSteps(env, roles);
  steps.push(...artifacts);
  return {
    graph: makeGraph(steps),
    finals: [recipeStepId(roles.kernel), INITRAMFS_STEP, ...artifacts.map((s) => s.id)],
    recipes: used,
    roles,
  };
}
