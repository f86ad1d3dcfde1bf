import assert from 'node:assert/strict';
import { mkdir, utimes, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fingerprintGraph } from '../../build/graph/fingerprint.js';
import { closure, makeGraph, toDot } from '../../build/graph/graph.js';
import type { Step } from '../../build/graph/types.js';
import { sha256Tree } from '../../build/util/hash.js';
import { imageTmpDir } from '../helpers/image-tools.js';

const step = (id: string, deps: string[], inputs: unknown): Step => ({
  id,
  deps,
  inputs: async () => inputs,
  run: async () => {},
});

// kernel <- busybox <- initramfs -> redis
const graphWith = (over: Record<string, unknown> = {}) =>
  makeGraph([
    step('initramfs', ['busybox', 'redis'], over.initramfs ?? { overlay: 'h1' }),
    step('busybox', ['kernel'], over.busybox ?? { src: 'b' }),
    step('kernel', [], over.kernel ?? { frag: 'k1' }),
    step('redis', [], over.redis ?? { src: 'r', opts: { a: 1, b: 2 } }),
  ]);

describe('step graph', () => {
  it('orders dependencies first, stably', () => {
    assert.deepEqual(graphWith().order, ['kernel', 'busybox', 'redis', 'initramfs']);
  });

  it('reports a cycle with its path, and unknown dependencies', () => {
    assert.throws(() => makeGraph([step('a', ['b'], 0), step('b', ['a'], 0)]), /cycle between steps: a -> b -> a/);
    assert.throws(() => makeGraph([step('a', ['zzz'], 0)]), /a depends on unknown step zzz/);
  });

  it('computes the closure of targets', () => {
    assert.deepEqual([...closure(graphWith(), ['busybox'])].sort(), ['busybox', 'kernel']);
  });

  it('renders DOT with every edge', () => {
    const dot = toDot(graphWith());
    assert.match(dot, /"busybox" -> "kernel";/);
    assert.match(dot, /"initramfs" -> "redis";/);
  });
});

describe('fingerprints', () => {
  it('are stable for the same inputs, whatever the key order', async () => {
    const a = await fingerprintGraph(graphWith());
    const b = await fingerprintGraph(graphWith({ redis: { opts: { b: 2, a: 1 }, src: 'r' } }));
    assert.deepEqual(a, b);
  });

  it('change for a step and everything downstream of it, and nothing else', async () => {
    const before = await fingerprintGraph(graphWith());
    const after = await fingerprintGraph(graphWith({ kernel: { frag: 'k2' } }));
    assert.notEqual(after.get('kernel'), before.get('kernel'));
    assert.notEqual(after.get('busybox'), before.get('busybox'));
    assert.notEqual(after.get('initramfs'), before.get('initramfs'));
    assert.equal(after.get('redis'), before.get('redis'));
  });

  it('an overlay change reaches only the initramfs', async () => {
    const before = await fingerprintGraph(graphWith());
    const after = await fingerprintGraph(graphWith({ initramfs: { overlay: 'h2' } }));
    for (const id of ['kernel', 'busybox', 'redis']) assert.equal(after.get(id), before.get(id), id);
    assert.notEqual(after.get('initramfs'), before.get('initramfs'));
  });
});

describe('tree hashes (what file inputs contribute)', () => {
  const makeTree = async (root: string, content: string) => {
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub/a.txt'), content);
    await writeFile(join(root, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(root, 'run.sh'), 0o755);
    return root;
  };

  it('ignore where the tree is and its timestamps', async (t) => {
    const { dir: base, cleanup } = await imageTmpDir('hash');
    t.after(cleanup);
    const one = await makeTree(join(base, 'one'), 'x');
    const two = await makeTree(join(base, 'elsewhere/two'), 'x');
    await utimes(join(two, 'sub/a.txt'), 1, 1);
    assert.equal(await sha256Tree(one), await sha256Tree(two));
  });

  it('see content, names and the exec bit', async (t) => {
    const { dir: base, cleanup } = await imageTmpDir('hash');
    t.after(cleanup);
    const ref = await sha256Tree(await makeTree(join(base, 'ref'), 'x'));
    assert.notEqual(await sha256Tree(await makeTree(join(base, 'content'), 'y')), ref);
    const mode = await makeTree(join(base, 'mode'), 'x');
    await chmod(join(mode, 'run.sh'), 0o644);
    assert.notEqual(await sha256Tree(mode), ref);
    const extra = await makeTree(join(base, 'extra'), 'x');
    await writeFile(join(extra, 'new'), '');
    assert.notEqual(await sha256Tree(extra), ref);
  });
});
