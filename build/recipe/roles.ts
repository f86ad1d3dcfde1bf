import type { Profile } from '../profile/types.js';
import { DefinitionError, ZosError } from '../util/errors.js';
import type { Recipe } from './types.js';

/**
 * Roles a recipe can fill. Plan, image and artifact code find recipes by role, never by name, so a
 * second kernel or another bootloader is a new recipe plus a profile choice, not a code change.
 */
export const ROLES = {
  /** Boot image (boot/vmlinuz) and kernel config; modules in rootfs when the profile builds them. */
  kernel: 'the kernel (boot/vmlinuz, export/kernel.config, export/kernel.release)',
  /** Linux UAPI headers in export/sysroot/usr/include, for userland built against musl. */
  'kernel-headers': 'Linux UAPI headers in export/sysroot/usr/include',
  /** Network boot loader binaries in boot/ipxe/ (ipxe.efi, ipxe.lkrn, undionly.kpxe, snponly.efi). */
  bootloader: 'network boot loader binaries in boot/ipxe/',
  /** The image's PID 1 (started by /init). */
  init: "the image's PID 1",
} as const;
export type Role = keyof typeof ROLES;

const ROLE_NAMES = Object.keys(ROLES);

export function validateProvides(provides: unknown, file: string): string[] {
  const list = provides ?? [];
  if (!Array.isArray(list))
    throw new DefinitionError(file, 'provides', `must be an array of roles (${ROLE_NAMES.join(', ')})`);
  list.forEach((r: unknown, i) => {
    if (typeof r !== 'string' || !ROLE_NAMES.includes(r)) {
      throw new DefinitionError(
        file,
        `provides[${i}]`,
        `${JSON.stringify(r)} is not a role (known: ${ROLE_NAMES.join(', ')})`,
      );
    }
  });
  return list as string[];
}

/**
 * The one recipe that fills `role` for `profile`: among the providers, the one the profile lists in
 * its packages, else the only provider there is. None, or several the profile does not choose
 * between, is an error naming the profile and the candidates.
 */
export function providerOf(
  role: Role,
  profile: Pick<Profile, 'name' | 'file' | 'packages'>,
  recipes: ReadonlyMap<string, Recipe>,
): Recipe {
  const all = [...recipes.values()].filter((r) => r.provides.includes(role)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const chosen = all.filter((r) => profile.packages.includes(r.name));
  const pick = chosen.length > 0 ? chosen : all;
  if (pick.length === 1) return pick[0]!;
  if (pick.length === 0) {
    throw new ZosError(
      `profile ${profile.name} needs a recipe that provides "${role}" (${ROLES[role]}), and none does`,
      `Add provides: ['${role}'] to the recipe that is ${ROLES[role]} (recipes/<name>/recipe.ts).`,
    );
  }
  throw new ZosError(
    `profile ${profile.name}: several recipes provide "${role}": ${pick.map((r) => r.name).join(', ')}`,
    `List exactly one of them in packages of ${profile.file}.`,
  );
}
