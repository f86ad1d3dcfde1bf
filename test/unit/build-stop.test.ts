import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { StepStore } from '../../build/cache/step-store.js';
import type { Graph, Step } from '../../build/graph/types.js';
import { runSteps } from '../../build/scheduler/run.js';
import { StepError } from '../../build/util/errors.js';
import { imageTmpDir } from '../helpers/image-tools.js';

/**
 * A failed step ends the build. This file has one test because that stops the process-wide
 * buildAbort, which every later build in the same process would see.
 */

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => {
  ({ dir, cleanup } = await imageTmpDir('build-stop'));
});
after(() => cleanup());

const entries = (d: string) => readdir(d).catch(() => [] as string[]);

it('a failed step stops the running ones, and the build returns only after they have cleaned up', async () => {
  const store = new StepStore(join(dir, 'cache'));
  const workRoot = join(dir, 'work');
  let longStarted = false;
  const long: Step = {
    id: 'long',
    deps: [],
    inputs: async () => ({}),
    // A real command that would run for a minute unless it is stopped.
    run: (ctx) => {
      longStarted = true;
      return ctx.log.run('sleep', ['60']);
    },
  };
  const fails: Step = {
    id: 'fails',
    deps: [],
    inputs: async () => ({}),
    run: async () => {
      while (!longStarted) await new Promise((r) => setTimeout(r, 20));
      throw new Error('broken recipe');
    },
  };
  const graph: Graph = { steps: new Map([long, fails].map((s) => [s.id, s])), order: ['long', 'fails'] };
  const start = Date.now();
  await assert.rejects(
    runSteps({
      graph,
      fingerprints: new Map([
        ['long', '1'.repeat(64)],
        ['fails', '2'.repeat(64)],
      ]),
      needed: new Set(graph.order),
      store,
      logDir: join(dir, 'logs'),
      workRoot,
      jobs: 2,
      verbose: true,
    }),
    (err: unknown) => err instanceof StepError && err.step === 'fails',
  );
  assert.ok(Date.now() - start < 30_000, 'the running step was stopped, not waited for');
  // By the time the build returns, the stopped step has cleaned up: no work dir, no step lock, no
  // temp output, and nothing cached for either step.
  assert.deepEqual(await entries(workRoot), []);
  assert.deepEqual(await entries(join(store.dir, 'locks')), []);
  assert.deepEqual(
    (await entries(store.dir)).filter((n) => n !== 'locks'),
    [],
  );
});
