/**
 * The image's identity in os-release(5) form, written once: /etc/os-release in the initramfs (with the
 * profile as VARIANT_ID and the image's fingerprint as BUILD_ID) and the UKI's .osrel section, which
 * boot menus read (it names the version only: the UKI is built from that image).
 */
export function osRelease(o: { version: string; variantId?: string; buildId?: string }): string {
  const lines = [
    'NAME="Zero-OS (zos-build)"',
    'ID=zos',
    `VERSION="${o.version}"`,
    `VERSION_ID=${o.version}`,
    `PRETTY_NAME="Zero-OS ${o.version}"`,
  ];
  if (o.buildId) lines.push(`BUILD_ID=${o.buildId}`);
  if (o.variantId) lines.push(`VARIANT_ID=${o.variantId}`);
  lines.push('HOME_URL="https://github.com/threefoldtech/zos"');
  return `${lines.join('\n')}\n`;
}
