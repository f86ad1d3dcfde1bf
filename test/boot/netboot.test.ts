/**
 * Network boots over QEMU's user network: PXE/TFTP and HTTP, BIOS (iPXE) and UEFI (GRUB), ipxe.lkrn
 * with a script as its initrd, and usb-netboot.img. The guest reaches the test's HTTP server on
 * 127.0.0.1:PORT as 10.0.2.2:PORT. Artifacts that embed a base URL are written for this server by the
 * real writers from the real kernel and initramfs; the real netboot/boot.ipxe is used as built.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { artifact, bootExpectBanner, need, serveDir, tempDir, writeArtifact, type FileServer } from './helpers.js';

describe('network boot', () => {
  let http: FileServer | undefined;
  let scratch = '';
  let httpNetboot = ''; // netboot/ written with baseUrl = this test's HTTP server
  let httpBase = '';

  before(async () => {
    scratch = await tempDir('net');
    http = await serveDir(artifact('netboot'));
    httpBase = `http://10.0.2.2:${http.port}/`;
    await writeArtifact('netboot', join(scratch, 'http'), { baseUrl: httpBase });
    await writeArtifact('usb-netboot', join(scratch, 'http'), { baseUrl: httpBase });
    httpNetboot = join(scratch, 'http', 'netboot');
  });
  after(async () => {
    await http?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const fetched = (from: number) => http!.requests.slice(from);

  test('PXE, TFTP, BIOS: e1000 iPXE ROM runs netboot/boot.ipxe', async (t) => {
    if (!need(t, 'netboot/boot.ipxe')) return;
    await bootExpectBanner(t, 'pxe-tftp-bios', {
      firmware: 'bios',
      netboot: { tftpDir: artifact('netboot'), bootfile: 'boot.ipxe' },
    });
  });

  test('PXE, TFTP, UEFI: OVMF loads zos-net.efi (GRUB), which fetches over TFTP', async (t) => {
    if (!need(t, 'netboot/zos-net.efi')) return;
    await bootExpectBanner(t, 'pxe-tftp-uefi', {
      firmware: 'uefi',
      netboot: { tftpDir: artifact('netboot'), bootfile: 'zos-net.efi' },
    });
  });

  test('HTTP, BIOS: DHCP boot file is the URL of netboot/boot.ipxe', async (t) => {
    if (!need(t, 'netboot/boot.ipxe')) return;
    const from = http!.requests.length;
    await bootExpectBanner(t, 'pxe-http-bios', { firmware: 'bios', netboot: { bootfile: `${httpBase}boot.ipxe` } });
    assert.ok(fetched(from).includes('/vmlinuz'), `kernel not fetched over HTTP: ${fetched(from).join(' ')}`);
  });

  test('HTTP, UEFI: zos-net.efi over TFTP, kernel and initramfs over HTTP', async (t) => {
    if (!need(t, 'netboot/vmlinuz')) return;
    const from = http!.requests.length;
    await bootExpectBanner(t, 'pxe-http-uefi', {
      firmware: 'uefi',
      netboot: { tftpDir: httpNetboot, bootfile: 'zos-net.efi' },
    });
    assert.ok(fetched(from).includes('/vmlinuz'), `kernel not fetched over HTTP: ${fetched(from).join(' ')}`);
  });

  test('ipxe.lkrn with boot.ipxe as its initrd, HTTP (BIOS)', async (t) => {
    if (!need(t, 'netboot/ipxe.lkrn')) return;
    const from = http!.requests.length;
    await bootExpectBanner(t, 'lkrn-http-bios', {
      firmware: 'bios',
      kernel: artifact('netboot/ipxe.lkrn'),
      initrd: join(httpNetboot, 'boot.ipxe'),
      network: true,
      // iPXE's NIC drivers use the PCI resources the BIOS assigned; qboot assigns none (Linux does that itself).
      seabios: true,
    });
    assert.ok(fetched(from).includes('/vmlinuz'), `kernel not fetched over HTTP: ${fetched(from).join(' ')}`);
  });

  for (const firmware of ['bios', 'uefi'] as const) {
    test(`usb-netboot.img as a USB stick, HTTP (${firmware})`, async (t) => {
      if (!need(t, 'usb-netboot.img')) return;
      const from = http!.requests.length;
      await bootExpectBanner(t, `usb-netboot-http-${firmware}`, {
        firmware,
        disk: { file: join(scratch, 'http', 'usb-netboot.img'), as: 'usb' },
        network: true,
      });
      assert.ok(fetched(from).includes('/vmlinuz'), `kernel not fetched over HTTP: ${fetched(from).join(' ')}`);
    });
  }

  for (const firmware of ['bios', 'uefi'] as const) {
    test(`usb-netboot.img as built, empty base URL = TFTP next-server (${firmware})`, async (t) => {
      if (!need(t, 'usb-netboot.img')) return;
      const script = await readFile(artifact('netboot/boot.ipxe'), 'utf8');
      if (!/set zos-base-url\s*$/m.test(script)) {
        t.skip('the profile sets an absolute base URL; covered by the HTTP variant above');
        return;
      }
      await bootExpectBanner(t, `usb-netboot-tftp-${firmware}`, {
        firmware,
        disk: { file: artifact('usb-netboot.img'), as: 'usb' },
        netboot: { tftpDir: artifact('netboot'), boot: false },
      });
    });
  }
});
