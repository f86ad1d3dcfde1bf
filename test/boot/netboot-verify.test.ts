/**
 * Verified network boot: netboot/ written with a throwaway OpenPGP key embedded in zos-net.efi
 * (GRUB, check_signatures=enforce), signed by `signNetboot` with that key's secret half, served over
 * HTTP on 127.0.0.1. A signed node boots to its agent; once one byte of the initramfs changes on the
 * server, GRUB says so on the console and the node does not boot it. Four UEFI boots under TCG
 * (zos-net.efi signed, usb-netboot.img signed, zos-net.efi Secure-Boot-signed under Secure Boot,
 * zos-net.efi tampered).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../build/agent-client/client.js';
import { testAuth } from '../helpers/operator.js';
import { readNetbootVerifyKey } from '../../build/artifacts/netboot-verify.js';
import { bootVm, freePort } from '../../build/qemu/index.js';
import { signNetboot } from '../../build/release/sign.js';
import { loadEfiSigner } from '../../build/sign/efi-signer.js';
import { SECURE, SNAKEOIL_CERT, decryptedSnakeoilKey } from '../helpers/snakeoil.js';
import { makeTestKey } from '../helpers/gpg.js';
import {
  assertSecureBootOn,
  bannerRe,
  BOOT_TIMEOUT_MS,
  bootExpectBanner,
  expectedVersion,
  need,
  serveDir,
  tempDir,
  writeArtifact,
  type FileServer,
} from './helpers.js';

describe('verified network boot (GRUB, signed kernel and initramfs)', () => {
  let http: FileServer | undefined;
  let scratch = '';
  let dir = ''; // the served netboot/: written for this server, with the key, then signed
  let verify: Awaited<ReturnType<typeof readNetbootVerifyKey>>;
  let gpgKey: Awaited<ReturnType<typeof makeTestKey>>;

  before(async () => {
    scratch = await tempDir('netverify');
    const key = await makeTestKey(scratch);
    gpgKey = key;
    verify = await readNetbootVerifyKey(key.publicKey);
    assert.equal(verify.fingerprint, key.fingerprint);
    // The port goes into zos-net.efi's config, so the server starts first, on the folder to come.
    dir = join(scratch, 'out', 'netboot');
    http = await serveDir(dir);
    const base = `http://10.0.2.2:${http.port}/`;
    await writeArtifact('netboot', join(scratch, 'out'), { baseUrl: base }, undefined, { netbootVerify: verify });
    await writeArtifact('usb-netboot', join(scratch, 'out'), { baseUrl: base }, undefined, { netbootVerify: verify });
    const sigs = await signNetboot(dir, { key: key.fingerprint, gnupgHome: key.home });
    assert.deepEqual(
      sigs.filter((f) => f.startsWith('vmlinuz')),
      ['vmlinuz.sig'],
    );
    assert.equal(sigs.length, 2);
  });
  after(async () => {
    await http?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('a signed kernel and initramfs boot to the agent', async (t) => {
    if (!need(t, 'netboot/vmlinuz')) return;
    const from = http!.requests.length;
    await bootExpectBanner(t, 'netverify-signed', {
      firmware: 'uefi',
      netboot: { tftpDir: dir, bootfile: 'zos-net.efi' },
    });
    const got = http!.requests.slice(from);
    const initrd = (await readdir(dir)).find((f) => /^initramfs\.cpio\.[a-z0-9]+$/.test(f))!;
    for (const f of ['/vmlinuz', '/vmlinuz.sig', `/${initrd}`, `/${initrd}.sig`])
      assert.ok(got.includes(f), `GRUB did not fetch ${f}: ${got.join(' ')}`);
  });

  test('usb-netboot.img (UEFI) carries the same verifying GRUB and boots the signed files', async (t) => {
    if (!need(t, 'usb-netboot.img')) return;
    const from = http!.requests.length;
    await bootExpectBanner(t, 'netverify-usb-netboot', {
      firmware: 'uefi',
      disk: { file: join(scratch, 'out', 'usb-netboot.img'), as: 'usb' },
      network: true,
    });
    assert.ok(http!.requests.slice(from).includes('/vmlinuz.sig'), 'GRUB on the stick did not check vmlinuz.sig');
  });

  test('under Secure Boot, a signed verifying zos-net.efi boots the signed kernel and initramfs', async (t) => {
    if (!need(t, 'netboot/vmlinuz')) return;
    // GRUB without shim: its own OpenPGP check (the embedded key) is what verifies the kernel there.
    const sbOut = join(scratch, 'sb');
    const sbDir = join(sbOut, 'netboot');
    const sbHttp = await serveDir(sbDir);
    try {
      const signer = await loadEfiSigner({ key: await decryptedSnakeoilKey(scratch), cert: SNAKEOIL_CERT });
      const base = `http://10.0.2.2:${sbHttp.port}/`;
      await writeArtifact('netboot', sbOut, { baseUrl: base }, undefined, { netbootVerify: verify, signer });
      await signNetboot(sbDir, { key: gpgKey.fingerprint, gnupgHome: gpgKey.home });
      await bootExpectBanner(
        t,
        'netverify-secureboot',
        { firmware: 'uefi', secureBoot: SECURE, netboot: { tftpDir: sbDir, bootfile: 'zos-net.efi' } },
        (agent) => assertSecureBootOn(agent, 'netverify-secureboot'),
      );
      assert.ok(sbHttp.requests.includes('/vmlinuz.sig'), 'GRUB under Secure Boot did not check vmlinuz.sig');
    } finally {
      await sbHttp.close();
    }
  });

  test('one flipped byte of the initramfs on the server: GRUB refuses it and the node does not boot', async (t) => {
    if (!need(t, 'netboot/vmlinuz')) return;
    const initrd = join(dir, (await readdir(dir)).find((f) => /^initramfs\.cpio\.[a-z0-9]+$/.test(f))!);
    const fh = await open(initrd, 'r+');
    try {
      const { size } = await fh.stat();
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, Math.floor(size / 2));
      b.writeUInt8(b.readUInt8(0) ^ 0x01, 0);
      await fh.write(b, 0, 1, Math.floor(size / 2));
    } finally {
      await fh.close();
    }
    const agentPort = await freePort();
    const consoleLog = join(process.env.ZOS_TEST_LOGS ?? join(tmpdir(), 'zos-boot-logs'), 'netverify-tampered.log');
    const vm = await bootVm({
      firmware: 'uefi',
      netboot: { tftpDir: dir, bootfile: 'zos-net.efi' },
      hostfwd: [{ hostPort: agentPort, guestPort: 6379 }],
      memoryMb: 512,
      consoleLog,
      lifetimeMs: BOOT_TIMEOUT_MS + 30_000,
    });
    try {
      await vm.waitFor(/signature checking on/, BOOT_TIMEOUT_MS);
      await vm.waitFor(/error: bad signature/, BOOT_TIMEOUT_MS);
      t.diagnostic(`GRUB refused the initramfs: ${vm.tail(6).replace(/\n/g, ' | ')}`);
      // The refusal skips `boot`: GRUB goes on to its retry (and, after 3, reboots). The node stays down.
      await vm.waitFor(/bad signature\.[\s\S]*could not load the kernel or the initramfs/, BOOT_TIMEOUT_MS);
      assert.doesNotMatch(vm.console(), bannerRe(expectedVersion()), 'the node booted a tampered initramfs');
      const answered = await AgentClient.waitForAgent(
        { host: '127.0.0.1', port: agentPort, ...testAuth() },
        15_000,
      ).then(
        async (a) => {
          await a.close();
          return true;
        },
        () => false,
      );
      assert.equal(answered, false, 'the agent answered: the node runs something');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n(full console: ${consoleLog})`);
    } finally {
      await vm.kill();
    }
  });
});
