import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { countStatsLog } from '../../build/compile/wrappers.js';
import { Progress, formatElapsed, heartbeatIntervalMs, lastLogLine } from '../../build/scheduler/progress.js';

describe('build progress', () => {
  it('formats elapsed time the way the heartbeat prints it', () => {
    assert.equal(formatElapsed(0), '0s');
    assert.equal(formatElapsed(45_900), '45s');
    assert.equal(formatElapsed(750_000), '12m30s');
    assert.equal(formatElapsed(3_723_000), '1h02m03s');
  });

  it('reads the heartbeat interval from ZOS_PROGRESS_INTERVAL (seconds), 30 s otherwise', () => {
    assert.equal(heartbeatIntervalMs({}), 30_000);
    assert.equal(heartbeatIntervalMs({ ZOS_PROGRESS_INTERVAL: '0.5' }), 500);
    assert.equal(heartbeatIntervalMs({ ZOS_PROGRESS_INTERVAL: 'soon' }), 30_000);
  });

  it('quotes the last non-empty log line, without control characters, cut to width', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-progress-'));
    try {
      const log = join(dir, 'step.log');
      await writeFile(log, '$ make -j2\n  CC      init/main.o\n  CC      drivers/net/virtio_net.o\n\n');
      assert.equal(await lastLogLine(log), 'CC drivers/net/virtio_net.o');
      await appendFile(log, '\x1b[34mCC\x1b[0m \x1b[33mserver.o\x1b[0m\n');
      assert.equal(await lastLogLine(log), 'CC server.o');
      await appendFile(log, `xz: 10%\r xz: 55%\r${'x'.repeat(300)}\n`);
      const cut = await lastLogLine(log, 40);
      assert.equal(cut.length, 40);
      assert.ok(cut.endsWith('…'));
      assert.equal(await lastLogLine(join(dir, 'missing.log')), '');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints one line per running step per interval, with the step's latest log line", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zos-progress-'));
    const printed: string[] = [];
    const progress = new Progress('lines', 100, (l) => printed.push(l));
    try {
      const log = join(dir, 'linux.log');
      await writeFile(log, '  CC      kernel/fork.o\n');
      const view = {
        setTitle: () => assert.fail('no titles without a terminal'),
        setOutput: () => assert.fail('no output bar without a terminal'),
      };
      progress.begin('recipe:linux', log, view);
      await sleep(350);
      await appendFile(log, '  LD      vmlinux\n');
      await sleep(250);
      progress.end('recipe:linux');
      const count = printed.length;
      await sleep(250);
      assert.equal(printed.length, count, 'no heartbeat after the step ended');
      assert.ok(count >= 2, printed.join('\n'));
      assert.match(printed[0]!, /^\[0s\] recipe:linux building — CC kernel\/fork\.o$/);
      assert.match(printed.at(-1)!, /^\[0s\] recipe:linux building — LD vmlinux$/);
    } finally {
      progress.end('recipe:linux');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ccache statistics of a step', () => {
  it("counts hits, remote hits and misses from ccache's stats_log", () => {
    const log = [
      '# a.c',
      'direct_cache_hit',
      'local_storage_hit',
      '# b.c',
      'direct_cache_hit',
      'remote_storage_hit',
      '# c.c',
      'cache_miss',
      'direct_cache_miss',
      '# d.c',
      'preprocessed_cache_hit',
      '# conftest',
      'called_for_link',
    ].join('\n');
    assert.deepEqual(countStatsLog(log), {
      hits: 3,
      direct: 2,
      preprocessed: 1,
      misses: 1,
      remoteHits: 1,
      uncacheable: 1,
    });
  });
});
