import { makeGraph } from '../graph/graph.js';
import type { Graph, Step } from '../graph/types.js';
import { INITRAMFS_STEP, initramfsStep } from '../image/step.js';
import type { Profile } from '../profile/types.js';
import { KERNEL_RECIPE, recipeStep, recipeStepId, type BuildEnv } from '../recipe/step.js';
import type { Recipe } from '../recipe/types.js';
import { ZosError } from '../util/errors.js';

export interface Plan {
  graph: Graph;
  /** The steps whose outputs make up out/<profile>/ (the rest are only their inputs). */
  finals: string[];
  /** Recipes this profile builds, by name. */
  recipes: Map<string, Recipe>;
}

/** Recipes the profile needs: the kernel, its packages, and what they depend on. */
export function recipeClosure(profile: Profile, recipes: ReadonlyMap<string, Recipe>, extra: readonly string[] = []): Map<string, Recipe> {
  const out = new Map<string, Recipe>();
  const visit = (name: string): void => {
    if (out.has(name)) return;
    const r = recipes.get(name)!;
    out.set(name, r);
    r.dependencies.forEach(visit);
  };
  [KERNEL_RECIPE, ...profile.packages, ...extra].forEach(visit);
  return out;
}

/**
 * One declarative profile in, one graph of steps out (LinuxKit style): a step per recipe, the
 * initramfs, then one step per boot artifact the profile asks for.
 */
export function planBuild(env: BuildEnv, recipes: ReadonlyMap<string, Recipe>, artifactSteps: (env: BuildEnv) => Step[] = () => []): Plan {
  const extra = env.profile.artifacts.some((a) => a === 'netboot' || a === 'usb-netboot') ? ['ipxe'] : [];
  for (const name of extra) {
    if (!recipes.has(name)) throw new ZosError(`profile ${env.profile.name} asks for netboot artifacts but there is no recipe "${name}"`, `Add recipes/${name}/recipe.ts or drop netboot and usb-netboot from ${env.profile.file}.`);
  }
  const used = recipeClosure(env.profile, recipes, extra);
  const steps: Step[] = [...used.values()].map((r) => recipeStep(r, env));
  steps.push(initramfsStep({ profile: env.profile, version: env.version, epoch: env.epoch }));
  const artifacts = artifactSteps(env);
  steps.push(...artifacts);
  return {
    graph: makeGraph(steps),
    finals: [recipeStepId(KERNEL_RECIPE), INITRAMFS_STEP, ...artifacts.map((s) => s.id)],
    recipes: used,
  };
}
