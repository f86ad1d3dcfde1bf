import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentClient } from '../../build/agent-client/client.js';
import { repoDir } from '../../build/paths.js';
import { freePort } from '../../build/qemu/index.js';
import { zosBuild } from '../helpers/cli.js';
import { TEST_KEY_FILE, testAuth } from '../helpers/operator.js';

// The operator's loop from README: `zos-build run` boots the built image, `zos-build agent` talks to
// it, and powering the node off ends `run`.
describe('zos-build run + zos-build agent', { timeout: 10 * 60_000 }, () => {
  it('boots out/qemu, answers over the forwarded port, and exits when the node powers off', async () => {
    const port = await freePort();
    const run = spawn(
      process.execPath,
      [join(repoDir, 'dist/build/cli/main.js'), 'run', '--profile', 'qemu', '--port', String(port), '--minutes', '8'],
      {
        cwd: repoDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    run.stderr.resume();
    const exited = new Promise<number | null>((res) => run.on('close', res));
    try {
      const agent = await AgentClient.waitForAgent({ host: '127.0.0.1', port, ...testAuth() }, 240_000);
      const pin = agent.tlsFingerprint!;
      await agent.close();
      const exec = await zosBuild([
        'agent',
        'exec',
        '--port',
        String(port),
        '--key',
        TEST_KEY_FILE,
        '--pin',
        pin,
        '--',
        'cat',
        '/etc/os-release',
      ]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /^ID=zos$/m);
      const off = await zosBuild(['agent', 'poweroff', '--port', String(port), '--key', TEST_KEY_FILE, '--pin', pin]);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(await exited, 0);
      assert.match(stdout, /ZOS-BOOT: zos-build \S+ \(build \w+\)/, 'run relays the serial console');
    } finally {
      run.kill('SIGINT');
    }
  });
});
