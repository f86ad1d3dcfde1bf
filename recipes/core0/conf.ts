import type { Profile } from '../../build/profile/types.js';

/**
 * The agent's defaults as the profile chooses them, in the key=value form agent/internal/settings
 * reads from /etc/zos/core0.conf; the kernel command line overrides each key. Public material only
 * (operator public keys), so it may enter the step cache; 0600 all the same: only core0 reads it.
 */
export function core0Conf(profile: Profile): string {
  const conf = ['# Written by zos-build from the profile; the kernel command line overrides each key.'];
  if (profile.agent.operatorKeys?.length) conf.push(`operator_keys=${profile.agent.operatorKeys.join(',')}`);
  if (profile.agent.insecureDev) conf.push('insecure_dev=true');
  if (profile.variant === 'debug') conf.push('debug=true');
  conf.push(`runmode=${profile.netboot.runmode}`);
  if (profile.netboot.farmId) conf.push(`farmer_id=${profile.netboot.farmId}`);
  return `${conf.join('\n')}\n`;
}

export const CORE0_CONF = 'etc/zos/core0.conf';
