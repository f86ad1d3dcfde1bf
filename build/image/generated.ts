import type { GeneratedFile } from './rootfs.js';
import { osRelease } from './os-release.js';

export interface GeneratedInput {
  /** The profile's name (VARIANT_ID). */
  profileName: string;
  version: string;
  /** Identifies the exact image (a prefix of its fingerprint), shown in the boot banner. */
  buildId: string;
}

/**
 * Files the image step writes itself: only who the image is (/etc/os-release). Components write
 * their own files (the agent's defaults come with the core0 recipe).
 */
export function generatedFiles({ profileName, version, buildId }: GeneratedInput): GeneratedFile[] {
  return [{ path: 'etc/os-release', data: osRelease({ version, variantId: profileName, buildId }), mode: 0o644 }];
}
