import { join } from 'node:path';
import { bootCommandLine, writers } from '../artifacts/index.js';
import { repoFileHash } from '../graph/inputs.js';
import type { Step } from '../graph/types.js';
import { INITRAMFS_STEP } from '../image/step.js';
import { initramfsFileName } from '../image/compress.js';
import type { ArtifactKind } from '../profile/types.js';
import { archFacts } from '../arch.js';
import { sha256 } from '../util/hash.js';
import type { NetbootVerifyKey } from '../artifacts/netboot-verify.js';
import { recipeStepId, type BuildEnv } from '../recipe/step.js';
import type { EfiSigner } from '../sign/efi-signer.js';
import type { PlanRoles } from './plan.js';

export const artifactStepId = (kind: ArtifactKind): string => `artifact:${kind}`;

/** Build options that only artifacts see (outside BuildEnv: editing them must not touch recipe fingerprints). */
export interface ArtifactOptions {
  /** --netboot-verify-key: the public key the netboot GRUBs embed (public: enters their fingerprints). */
  netbootVerify?: NetbootVerifyKey;
  /** --sign-key/--sign-cert: Secure Boot signing of every EFI binary (only the certificate enters fingerprints). */
  signer?: EfiSigner;
}

/**
 * One step per boot artifact the profile asks for (LinuxKit style: one image, many formats). Each
 * is cached on its own, so adding `iso` to a profile does not rewrite `usb.img`. With a `signer`
 * (Secure Boot), every EFI binary a firmware loads is signed; see docs/secure-boot.md.
 */
export function artifactSteps(env: BuildEnv, roles: PlanRoles, opts: ArtifactOptions = {}): Step[] {
  const kernel = recipeStepId(roles.kernel);
  const arch = archFacts(env.profile.arch);
  return env.profile.artifacts.map((kind) => {
    const writer = writers[kind];
    const ipxe = writer.reads.bootloader && roles.bootloader ? recipeStepId(roles.bootloader) : undefined;
    // Only the network artifacts embed the netboot key; an unsigned build keeps its fingerprints.
    const verify = writer.reads.bootloader ? opts.netbootVerify : undefined;
    const signer = opts.signer;
    return {
      id: artifactStepId(kind),
      deps: [
        ...(writer.reads.kernel ? [kernel] : []),
        ...(writer.reads.initramfs ? [INITRAMFS_STEP] : []),
        ...(ipxe ? [ipxe] : []),
      ],
      async inputs() {
        return {
          kind,
          arch: arch.name,
          cmdline: bootCommandLine(env.profile),
          version: env.version,
          epoch: env.epoch,
          netboot: env.profile.netboot,
          ...(verify ? { netbootVerifyKey: sha256(verify.key) } : {}),
          builder: await repoFileHash('build/artifacts'),
          hostTools: await env.hostTools.versions([...writer.hostTools, ...(signer ? ['sbsign'] : [])]),
          // Secure Boot: the certificate's hash only (never the key); absent, unsigned fingerprints stay as they were.
          signing: signer ? { certSha256: signer.certSha256, code: await repoFileHash('build/sign') } : undefined,
        };
      },
      async run(ctx) {
        const name = initramfsFileName(env.profile.compression);
        const initramfs = writer.reads.initramfs ? join(ctx.depOutputs.get(INITRAMFS_STEP)!, name) : name;
        await writer.write({
          vmlinuz: writer.reads.kernel ? join(ctx.depOutputs.get(kernel)!, 'boot/vmlinuz') : '',
          arch,
          initramfs,
          cmdline: bootCommandLine(env.profile),
          version: env.version,
          netboot: env.profile.netboot,
          netbootVerify: verify,
          ipxeDir: ipxe ? join(ctx.depOutputs.get(ipxe)!, 'boot/ipxe') : '',
          outDir: ctx.outDir,
          workDir: ctx.workDir,
          epoch: env.epoch,
          log: ctx.log,
          signer,
        });
      },
    };
  });
}
