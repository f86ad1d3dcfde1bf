import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StepStore } from '../../build/cache/step-store.js';
import { SourceStore } from '../../build/cache/source-store.js';
import type { Graph, Step } from '../../build/graph/types.js';
import { runSteps } from '../../build/scheduler/run.js';
import { newWorkDir, sweepWorkDirs } from '../../build/scheduler/work-dir.js';
import { acquireLock, waitForLock } from '../../build/util/lock.js';
import { ownerTag, startTimeOf } from '../../build/util/owner.js';
import { imageTmpDir } from '../helpers/image-tools.js';

/**
 * Locks, temp files and work dirs name their owner by pid AND process start time, so a pid reused
 * by an unrelated process is never mistaken for the owner, and leftovers of killed builds are
 * removed only when their owner is provably gone. Uses real processes (sleep) as owners.
 */

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let live: ChildProcess;
let liveTag = '';
let deadPid = 0;
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('locks'));
  live = spawn('sleep', ['300'], { stdio: 'ignore' });
  liveTag = `${live.pid}.${startTimeOf(live.pid!)}`;
  deadPid = spawnSync('true').pid!;
});
after(async () => {
  live.kill('SIGKILL');
  await cleanup();
});

describe('locks', () => {
  it('a live holder (pid and start time match) keeps its lock', async () => {
    const lock = join(dir, 'held.lock');
    await writeFile(lock, `${liveTag}\n`);
    await assert.rejects(acquireLock(lock, 'cache'), new RegExp(`in use by another zos-build \\(pid ${live.pid}\\)`));
  });

  it('a pid now used by an unrelated process (other start time) is not the holder: taken over', async () => {
    const lock = join(dir, 'reused.lock');
    await writeFile(lock, `${live.pid}.${startTimeOf(live.pid!)! - 1}\n`);
    const release = await acquireLock(lock, 'cache');
    assert.equal((await readFile(lock, 'utf8')).trim(), ownerTag());
    await release();
  });

  it('a dead holder, even in the old pid-only format, is taken over', async () => {
    const lock = join(dir, 'dead.lock');
    await writeFile(lock, `${deadPid}\n`);
    const release = await acquireLock(lock, 'cache');
    await release();
  });

  it('waitForLock waits for the holder to release, then takes the lock', async () => {
    const lock = join(dir, 'wait.lock');
    const release = await acquireLock(lock, 'step');
    let waited = false;
    const second = waitForLock(lock, { pollMs: 20, onWait: () => (waited = true) });
    await new Promise((r) => setTimeout(r, 100));
    await release();
    const release2 = await second;
    assert.ok(waited);
    await release2();
  });
});

describe('leftovers of killed builds', () => {
  it('every attempt gets a new work dir; only dirs of gone owners are swept', async () => {
    const root = join(dir, 'work');
    const a = await newWorkDir(root, 'recipe-x-0123456789ab');
    const b = await newWorkDir(root, 'recipe-x-0123456789ab');
    assert.notEqual(a, b);
    const ofLive = join(root, `recipe-x-0123456789ab.attempt-${liveTag}-AbC123`);
    const ofDead = join(root, `recipe-x-0123456789ab.attempt-${deadPid}.1-AbC123`);
    await mkdir(ofLive);
    await mkdir(ofDead);
    assert.equal(await sweepWorkDirs(root), 1);
    const left = await readdir(root);
    assert.ok(left.includes(`recipe-x-0123456789ab.attempt-${liveTag}-AbC123`));
    assert.ok(!left.includes(`recipe-x-0123456789ab.attempt-${deadPid}.1-AbC123`));
    assert.equal(left.length, 3, "this process's own attempt dirs are kept");
  });

  it('partial downloads of killed fetches are removed, live ones kept', async () => {
    const store = new SourceStore(join(dir, 'sources'));
    await mkdir(store.dir, { recursive: true });
    const sha = 'a'.repeat(64);
    await writeFile(join(store.dir, `${sha}.tmp-${deadPid}.7-0badc0de`), 'partial');
    await writeFile(join(store.dir, `${sha}.tmp-${liveTag}-0badc0de`), 'downloading');
    await writeFile(store.pathOf(sha), 'verified');
    assert.equal(await store.sweepTemps(), 1);
    assert.deepEqual((await readdir(store.dir)).sort(), [sha, `${sha}.tmp-${liveTag}-0badc0de`]);
  });
});

describe('step locks: builds share a cache', () => {
  const fp = (c: string) => c.repeat(64);
  const graphOf = (steps: Step[]): Graph => ({
    steps: new Map(steps.map((s) => [s.id, s])),
    order: steps.map((s) => s.id),
  });
  const run = (store: StepStore, graph: Graph, fps: Record<string, string>) =>
    runSteps({
      graph,
      fingerprints: new Map(Object.entries(fps)),
      needed: new Set(graph.order),
      store,
      logDir: join(dir, 'logs'),
      workRoot: join(dir, 'swork'),
      jobs: 2,
      verbose: true,
    });

  it('two builds of the same step: one builds, the other waits and reuses its output', async () => {
    const store = new StepStore(join(dir, 'cache-same'));
    let runs = 0;
    const step: Step = {
      id: 'slow',
      deps: [],
      inputs: async () => ({}),
      run: async (ctx) => {
        runs++;
        await new Promise((r) => setTimeout(r, 300));
        await writeFile(join(ctx.outDir, 'out'), 'built once');
      },
    };
    const [a, b] = await Promise.all([
      run(store, graphOf([step]), { slow: fp('1') }),
      run(store, graphOf([step]), { slow: fp('1') }),
    ]);
    assert.equal(runs, 1);
    assert.deepEqual([a.outcomes.get('slow'), b.outcomes.get('slow')].sort(), ['built', 'cached']);
    assert.equal(await readFile(join(store.pathOf(fp('1')), 'out'), 'utf8'), 'built once');
  });

  it('two builds of different steps run at the same time on one cache', async () => {
    const store = new StepStore(join(dir, 'cache-diff'));
    // Each step finishes only once the other has started: a cache-wide lock would time out here.
    const started = { a: false, b: false };
    const stepOf = (id: 'a' | 'b', other: 'a' | 'b'): Step => ({
      id,
      deps: [],
      inputs: async () => ({}),
      run: async (ctx) => {
        started[id] = true;
        for (let i = 0; i < 100 && !started[other]; i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(started[other], `${other} never started while ${id} was building`);
        await writeFile(join(ctx.outDir, 'out'), id);
      },
    });
    const [ra, rb] = await Promise.all([
      run(store, graphOf([stepOf('a', 'b')]), { a: fp('a') }),
      run(store, graphOf([stepOf('b', 'a')]), { b: fp('b') }),
    ]);
    assert.equal(ra.outcomes.get('a'), 'built');
    assert.equal(rb.outcomes.get('b'), 'built');
  });
});
