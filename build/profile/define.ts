import type { ProfileSpec } from './types.js';

/** Declares a build profile (`config/<name>.ts`); validated by the loader. */
export function defineProfile(spec: ProfileSpec): ProfileSpec {
  return spec;
}
