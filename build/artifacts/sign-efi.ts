import { join } from 'node:path';
import { copyStamped } from './common.js';
import type { ArtifactInput } from './types.js';

/**
 * The EFI binary a firmware will load, as this build ships it: `src` itself when the build is unsigned,
 * else a signed copy in the writer's work dir (inputs such as iPXE binaries are cached outputs of
 * other steps and are never modified).
 */
export async function loaderForFirmware(input: ArtifactInput, src: string, name: string): Promise<string> {
  if (!input.signer) return src;
  const copy = join(input.workDir, 'signed', name);
  await copyStamped(src, copy, input.epoch);
  await input.signer.sign(copy, input.log);
  return copy;
}

/** Signs a file this writer made itself (in place), when the build signs. */
export async function signIfSigning(input: ArtifactInput, file: string): Promise<void> {
  if (input.signer) await input.signer.sign(file, input.log);
}
