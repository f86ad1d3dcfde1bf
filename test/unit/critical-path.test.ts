import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criticalPath } from '../../build/report/critical-path.js';

describe('critical path', () => {
  it('follows the longest chain of dependent work, not the longest single step', () => {
    // kernel (300) -> busybox (60) -> initramfs (10) -> iso (5) = 375; redis (200) -> initramfs ... = 215
    const steps = [
      { id: 'recipe:linux', deps: [], duration: 300 },
      { id: 'recipe:busybox', deps: ['recipe:linux'], duration: 60 },
      { id: 'recipe:redis', deps: [], duration: 200 },
      { id: 'initramfs', deps: ['recipe:busybox', 'recipe:redis'], duration: 10 },
      { id: 'artifact:iso', deps: ['initramfs', 'recipe:linux'], duration: 5 },
      { id: 'artifact:efi', deps: ['initramfs'], duration: 2 },
    ];
    assert.deepEqual(criticalPath(steps), ['recipe:linux', 'recipe:busybox', 'initramfs', 'artifact:iso']);
  });

  it('switches when another branch gets slower', () => {
    const steps = [
      { id: 'a', deps: [], duration: 10 },
      { id: 'b', deps: [], duration: 50 },
      { id: 'c', deps: ['a', 'b'], duration: 1 },
    ];
    assert.deepEqual(criticalPath(steps), ['b', 'c']);
  });

  it('ignores dependencies that were not part of the build and handles an all-cached build', () => {
    assert.deepEqual(criticalPath([{ id: 'x', deps: ['not-run'], duration: 0 }]), ['x']);
    assert.deepEqual(criticalPath([]), []);
  });
});
