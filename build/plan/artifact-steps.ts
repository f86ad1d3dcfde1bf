import type { Step } from '../graph/types.js';
import type { BuildEnv } from '../recipe/step.js';

/** One step per boot artifact the profile asks for (wired to build/artifacts/ writers). */
export function artifactSteps(_env: BuildEnv): Step[] {
  return [];
}
