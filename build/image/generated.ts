import type { GeneratedFile } from './rootfs.js';
import type { Profile } from '../profile/types.js';

export interface GeneratedInput {
  profile: Profile;
  version: string;
  /** Identifies the exact image (a prefix of its fingerprint), shown in the boot banner. */
  buildId: string;
}

/** Files the build writes into the image: who it is (/etc/os-release) and the agent's defaults. */
export function generatedFiles({ profile, version, buildId }: GeneratedInput): GeneratedFile[] {
  const osRelease = [
    'NAME="Zero-OS (zos-build)"',
    'ID=zos',
    `VERSION="${version}"`,
    `VERSION_ID=${version}`,
    `PRETTY_NAME="Zero-OS ${version}"`,
    `BUILD_ID=${buildId}`,
    `VARIANT_ID=${profile.name}`,
    'HOME_URL="https://github.com/threefoldtech/zos"',
    '',
  ].join('\n');
  const conf: string[] = ['# Written by zos-build from the profile; the kernel command line overrides each key.'];
  if (profile.agent.operatorKeys?.length) conf.push(`operator_keys=${profile.agent.operatorKeys.join(',')}`);
  if (profile.agent.insecureDev) conf.push('insecure_dev=true');
  if (profile.variant === 'debug') conf.push('debug=true');
  conf.push(`runmode=${profile.netboot.runmode}`);
  if (profile.netboot.farmId) conf.push(`farmer_id=${profile.netboot.farmId}`);
  return [
    { path: 'etc/os-release', data: osRelease, mode: 0o644 },
    // Public material only (operator public keys, settings); 0600 all the same: only core0 reads it.
    { path: 'etc/zos/core0.conf', data: `${conf.join('\n')}\n`, mode: 0o600 },
  ];
}
