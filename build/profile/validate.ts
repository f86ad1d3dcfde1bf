import { ARCHES, DEFAULT_ARCH } from '../arch.js';
import { join } from 'node:path';
import { repoDir } from '../paths.js';
import type { Recipe } from '../recipe/types.js';
import { publicKeyProblem } from '../agent-client/operator-key.js';
import { DefinitionError } from '../util/errors.js';
import { rejectUnknownFields, requireObject } from '../util/fields.js';
import { exists } from '../util/fs.js';
import { isPlainRelative } from '../util/safe-paths.js';
import { ARTIFACTS, COMPRESSIONS, RUNMODES, type Profile, type ProfileSpec } from './types.js';

/**
 * Checks a profile (`config/<name>.ts`) field by field, the way recipe/validate.ts checks recipes:
 * every problem is a DefinitionError naming the file and the field, never a TypeError later on.
 * Unknown fields are refused at every level (a misspelt optional field would silently take its
 * default). Fragment files must exist in the repository; packages must be known recipes.
 */

const PROFILE_FIELDS: Record<keyof ProfileSpec, true> = {
  arch: true,
  name: true,
  description: true,
  kernel: true,
  packages: true,
  compression: true,
  cmdline: true,
  variant: true,
  agent: true,
  netboot: true,
  artifacts: true,
};
const KERNEL_FIELDS: Record<keyof ProfileSpec['kernel'], true> = { base: true, fragments: true, modules: true };
const AGENT_FIELDS: Record<keyof ProfileSpec['agent'], true> = { operatorKeys: true, insecureDev: true };
const NETBOOT_FIELDS: Record<keyof ProfileSpec['netboot'], true> = {
  baseUrl: true,
  runmode: true,
  farmId: true,
  extraArgs: true,
};
const VARIANTS = ['release', 'debug'] as const;
const BASES = ['tinyconfig', 'defconfig'] as const;

export async function validateProfile(
  spec: unknown,
  file: string,
  name: string,
  recipes: ReadonlyMap<string, Recipe>,
): Promise<Profile> {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec))
    throw new DefinitionError(file, 'default export', 'must be defineProfile({...})');
  const s = spec as Record<string, unknown>;
  rejectUnknownFields(file, '', s, PROFILE_FIELDS);
  const bad = (field: string, problem: string, hint?: string): never => {
    throw new DefinitionError(file, field, problem, hint);
  };
  const str = (field: string, v: unknown, opts: { empty?: boolean } = {}): string => {
    if (typeof v !== 'string' || (!opts.empty && v.trim() === ''))
      bad(field, `is required and must be a ${opts.empty ? '' : 'non-empty '}string`);
    return v as string;
  };
  const oneOf = <T extends string>(field: string, v: unknown, allowed: readonly T[]): T => {
    if (typeof v !== 'string' || !allowed.includes(v as T))
      bad(field, `${JSON.stringify(v)} must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  const strings = (field: string, v: unknown): string[] => {
    if (!Array.isArray(v)) bad(field, 'is required and must be an array of strings');
    for (const [i, x] of (v as unknown[]).entries())
      if (typeof x !== 'string') bad(`${field}[${i}]`, 'must be a string');
    return v as string[];
  };
  const bool = (field: string, v: unknown): boolean | undefined => {
    if (v !== undefined && typeof v !== 'boolean') bad(field, 'must be true or false');
    return v as boolean | undefined;
  };

  if (str('name', s.name) !== name) bad('name', `"${String(s.name)}" must match the file name "${name}"`);
  const description = str('description', s.description);

  requireObject(file, 'kernel', s.kernel);
  rejectUnknownFields(file, 'kernel', s.kernel, KERNEL_FIELDS);
  const base = oneOf('kernel.base', s.kernel.base, BASES);
  const fragments = strings('kernel.fragments', s.kernel.fragments ?? []);
  for (const [i, frag] of fragments.entries()) {
    if (!isPlainRelative(frag))
      bad(`kernel.fragments[${i}]`, `"${frag}" must be a path relative to the repository (no leading /, no ..)`);
    if (!(await exists(join(repoDir, frag)))) bad(`kernel.fragments[${i}]`, `${frag} does not exist`);
  }
  const modules = bool('kernel.modules', s.kernel.modules);

  const packages = strings('packages', s.packages);
  for (const [i, pkg] of packages.entries()) {
    if (!recipes.has(pkg))
      bad(`packages[${i}]`, `unknown recipe "${pkg}" (known: ${[...recipes.keys()].sort().join(', ')})`);
  }
  const compression = oneOf('compression', s.compression, COMPRESSIONS);
  const cmdline = str('cmdline', s.cmdline, { empty: true });
  const variant = oneOf('variant', s.variant, VARIANTS);

  requireObject(file, 'agent', s.agent);
  rejectUnknownFields(file, 'agent', s.agent, AGENT_FIELDS);
  const operatorKeys =
    s.agent.operatorKeys === undefined ? undefined : strings('agent.operatorKeys', s.agent.operatorKeys);
  for (const [i, k] of (operatorKeys ?? []).entries()) {
    const problem = publicKeyProblem(k);
    if (problem)
      bad(
        `agent.operatorKeys[${i}]`,
        `"${k.slice(0, 24)}": ${problem}`,
        'An operator PUBLIC key, as printed by `zos-build agent keygen --out FILE`; never a private key.',
      );
  }
  const insecureDev = bool('agent.insecureDev', s.agent.insecureDev);

  requireObject(file, 'netboot', s.netboot);
  rejectUnknownFields(file, 'netboot', s.netboot, NETBOOT_FIELDS);
  const baseUrl = str('netboot.baseUrl', s.netboot.baseUrl, { empty: true });
  if (baseUrl !== '' && !/^https?:\/\/\S+$/.test(baseUrl))
    bad('netboot.baseUrl', `"${baseUrl}" must be empty or an http(s) URL`);
  const runmode = oneOf('netboot.runmode', s.netboot.runmode, RUNMODES);
  const farmId = str('netboot.farmId', s.netboot.farmId, { empty: true });
  if (!/^\d*$/.test(farmId)) bad('netboot.farmId', `"${farmId}" must be digits (or empty)`);
  const extraArgs = str('netboot.extraArgs', s.netboot.extraArgs, { empty: true });

  if (!Array.isArray(s.artifacts)) bad('artifacts', `must be an array of ${ARTIFACTS.join(', ')}`);
  const artifacts = (s.artifacts as unknown[]).map((a, i) => oneOf(`artifacts[${i}]`, a, ARTIFACTS));
  const arch = oneOf('arch', s.arch ?? DEFAULT_ARCH, Object.keys(ARCHES));

  return {
    name,
    description,
    arch,
    kernel: { base, fragments, ...(modules === undefined ? {} : { modules }) },
    packages,
    compression,
    cmdline,
    variant,
    agent: {
      ...(operatorKeys === undefined ? {} : { operatorKeys }),
      ...(insecureDev === undefined ? {} : { insecureDev }),
    },
    netboot: { baseUrl, runmode, farmId, extraArgs },
    artifacts,
    file,
  };
}
