import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoDir } from '../../build/paths.js';
import type { Manifest } from '../../build/publish/out-dir.js';

/** The built qemu profile the boot tests use: ci/test builds it before running them. */
export const testOut = (): string => process.env.ZOS_TEST_OUT ?? join(repoDir, 'out/qemu');

export async function testManifest(): Promise<Manifest> {
  const file = join(testOut(), 'manifest.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch (err) {
    throw new Error(`${file} is missing: build the qemu profile first (node dist/build/cli/main.js build --profile qemu): ${String(err)}`);
  }
}

export async function initramfsOf(manifest: Manifest): Promise<string> {
  const file = manifest.artifacts.find((a) => /^initramfs\.cpio\./.test(a.file));
  if (!file) throw new Error(`no initramfs in ${testOut()}/manifest.json`);
  return join(testOut(), file.file);
}
