/**
 * Text of the boot scripts and configs the artifacts carry: iPXE's boot.ipxe, GRUB's network config
 * and the local-disk configs of syslinux and GRUB. Pure functions, so tests and docs can render them.
 */
import { ZosError } from '../util/errors.js';
import { grubQuote } from './grub.js';
import type { Profile } from '../profile/types.js';
import type { NetbootSettings } from './types.js';

/**
 * The kernel command line of every artifact, composed here only: the profile's line, the initramfs
 * entry point, then the node settings (run mode, farm, extra arguments) unless the line sets them.
 */
export function bootCommandLine(profile: Pick<Profile, 'cmdline' | 'netboot'>): string {
  const cmdline = `${profile.cmdline.trim()} rdinit=/init`.trim();
  const { netboot } = profile;
  const parts = [cmdline];
  if (!/(^|\s)runmode=/.test(cmdline)) parts.push(`runmode=${netboot.runmode}`);
  if (netboot.farmId && !/(^|\s)farmer_id=/.test(cmdline)) parts.push(`farmer_id=${netboot.farmId}`);
  if (netboot.extraArgs.trim()) parts.push(netboot.extraArgs.trim());
  return parts.join(' ');
}

/** baseUrl with exactly one trailing slash; '' stays '' (= relative to the boot script). */
export function normalizeBaseUrl(baseUrl: string): string {
  const b = baseUrl.trim();
  if (b === '' || b === '.' || b === './') return '';
  return b.endsWith('/') ? b : `${b}/`;
}

export interface IpxeScriptInput {
  version: string;
  cmdline: string;
  netboot: NetbootSettings;
  /** File name of the initramfs next to vmlinuz, e.g. initramfs.cpio.xz. */
  initramfsName: string;
  /**
   * What an empty baseUrl means: `relative` = next to the script (iPXE resolves against the script's
   * URI; for boot.ipxe fetched over the network), `next-server` = the root of the TFTP server DHCP
   * names (for scripts that come from a local disk and have no URI of their own).
   */
  emptyBase?: 'relative' | 'next-server';
}

function ipxeSafe(what: string, s: string): string {
  if (/[\n\r]/.test(s)) throw new ZosError(`netboot ${what} must be one line: ${JSON.stringify(s)}`);
  return s;
}

/**
 * boot.ipxe: makes sure some NIC has an address (DHCP over every interface, with retries), fetches
 * the kernel and the initramfs from `zos-base-url` (default: the profile's baseUrl; empty means
 * "next to this script", resolved by iPXE against the script's own URI), retries, and on failure
 * sleeps and reboots: a node must never sit at a prompt. The base URL can be overridden by setting
 * `zos-base-url` (with a trailing /) before chaining this script.
 */
export function renderBootIpxe(input: IpxeScriptInput): string {
  let base = ipxeSafe('baseUrl', normalizeBaseUrl(input.netboot.baseUrl));
  if (base === '' && input.emptyBase === 'next-server') base = 'tftp://${next-server}/';
  const args = ipxeSafe('cmdline', input.cmdline);
  const initrd = input.initramfsName;
  const ver = input.version;
  const lines = [
    '#!ipxe',
    `# zos-build ${ver} network boot script. Generated from the profile; do not edit by hand.`,
    '# Override the base URL by setting ${zos-base-url} (ending in /) before chaining this script.',
    '',
    `echo zos-build ${ver}: network boot (runmode ${input.netboot.runmode}${input.netboot.farmId ? `, farm ${input.netboot.farmId}` : ''})`,
    'set zos-net-try:int32 0',
    'set zos-fetch-try:int32 0',
    'isset ${ip} && goto zos_have_net ||',
    '',
    ':zos_dhcp',
    'inc zos-net-try',
    'iseq ${zos-net-try} 6 && goto zos_fail ||',
    'echo zos: DHCP on every network interface (attempt ${zos-net-try} of 5)',
    'ifconf --configurator dhcp && goto zos_have_net ||',
    'echo zos: no interface got a DHCP lease; retrying in 5 s',
    'sleep 5',
    'goto zos_dhcp',
    '',
    ':zos_have_net',
    'echo zos: network up: ${netX/ip} via ${netX/mac}',
    // Set only now: ${next-server} in a default base URL exists once DHCP has answered.
    `isset \${zos-base-url} || set zos-base-url ${base}`,
    '',
    ':zos_fetch',
    'inc zos-fetch-try',
    'iseq ${zos-fetch-try} 4 && goto zos_fail ||',
    'imgfree',
    'echo zos: fetching ${zos-base-url}vmlinuz (attempt ${zos-fetch-try} of 3)',
    `kernel \${zos-base-url}vmlinuz initrd=${initrd} ${args} || goto zos_fetch_failed`,
    `echo zos: fetching \${zos-base-url}${initrd}`,
    `initrd \${zos-base-url}${initrd} || goto zos_fetch_failed`,
    'imgstat',
    `echo zos: kernel and initramfs loaded; booting zos-build ${ver}`,
    'boot || goto zos_fetch_failed',
    '',
    ':zos_fetch_failed',
    'echo zos: could not load the kernel or the initramfs from ${zos-base-url} (empty: next to boot.ipxe)',
    'echo zos: renewing DHCP and retrying in 10 s',
    'sleep 10',
    'ifconf --configurator dhcp ||',
    'goto zos_fetch',
    '',
    ':zos_fail',
    'echo zos: network boot FAILED; rebooting in 30 s',
    'sleep 30',
    'reboot',
    '',
  ];
  return lines.join('\n');
}

/**
 * A base URL as GRUB names files: `(http,host:port)/path/` or `(tftp,host)/path/`. GRUB has no TLS,
 * so https cannot be used by the GRUB path; '' means the TFTP server GRUB itself came from.
 */
export function grubBaseUrl(baseUrl: string): string {
  const b = normalizeBaseUrl(baseUrl);
  if (b === '') return '(tftp,$net_default_server)/';
  let u: URL;
  try {
    u = new URL(b);
  } catch {
    throw new ZosError(`netboot baseUrl ${JSON.stringify(baseUrl)} is not a URL`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'tftp') {
    throw new ZosError(
      `GRUB (the UEFI network path) cannot fetch ${scheme}:// URLs (${baseUrl})`,
      'Use an http:// or tftp:// base URL, or boot UEFI nodes with iPXE configured by your DHCP server (see docs/artifacts.md).',
    );
  }
  // GRUB 2.06 as built by Debian takes the port after a colon: (http,host:port).
  const host = u.port ? `${u.hostname}:${u.port}` : u.hostname;
  return `(${scheme},${host})${decodeURIComponent(u.pathname)}`;
}

/** grub.cfg of the GRUB network image: DHCP on every NIC (retries), fetch, boot; on failure reboot. */
export function renderGrubNetCfg(input: IpxeScriptInput): string {
  const base = grubBaseUrl(input.netboot.baseUrl);
  const args = input.cmdline;
  const ver = input.version;
  return [
    `# zos-build ${ver}: UEFI network boot through GRUB's network stack. Generated from the profile.`,
    'set timeout=0',
    'insmod efinet',
    'insmod http',
    'insmod tftp',
    'insmod eval',
    `echo "zos-build ${ver}: network boot (runmode ${input.netboot.runmode})"`,
    'for try in 1 2 3 4 5; do',
    '  if [ -n "$net_default_server" -o -n "$zos_have_net" ]; then break; fi',
    '  echo "zos: DHCP on every network interface (attempt $try of 5)"',
    '  if net_bootp; then set zos_have_net=1; break; fi',
    '  echo "zos: no DHCP lease; retrying in 5 s"',
    '  sleep 5',
    'done',
    'net_ls_addr',
    '# GRUB sets $net_default_server only when it was PXE-loaded; after net_bootp take the DHCP next-server.',
    'for card in efinet0 efinet1 efinet2 efinet3; do',
    '  if [ -z "$net_default_server" ]; then eval "set net_default_server=\\$net_${card}_dhcp_next_server"; fi',
    '  if [ -z "$net_default_server" ]; then eval "set net_default_server=\\$net_${card}_next_server"; fi',
    'done',
    `set zos_base=${grubQuote(base).replace(/\$net_default_server/g, '\'"$net_default_server"\'')}`,
    'for try in 1 2 3; do',
    '  echo "zos: fetching ${zos_base}vmlinuz (attempt $try of 3)"',
    `  if linux "\${zos_base}vmlinuz" ${args.split(/\s+/).map(grubQuote).join(' ')}; then`,
    `    echo "zos: fetching \${zos_base}${input.initramfsName}"`,
    `    if initrd "\${zos_base}${input.initramfsName}"; then`,
    `      echo "zos: kernel and initramfs loaded; booting zos-build ${ver}"`,
    '      boot',
    '    fi',
    '  fi',
    '  echo "zos: could not load the kernel or the initramfs; retrying in 10 s"',
    '  sleep 10',
    'done',
    'echo "zos: network boot FAILED; rebooting in 30 s"',
    'sleep 30',
    'reboot',
    '',
  ].join('\n');
}
