import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateProfile } from '../../build/profile/validate.js';
import type { Recipe } from '../../build/recipe/types.js';
import { DefinitionError } from '../../build/util/errors.js';

const FILE = '/repo/config/demo.ts';
const recipes = new Map([['busybox', {} as Recipe]]);
const good = (): Record<string, unknown> => ({
  name: 'demo',
  description: 'a demo profile',
  kernel: { base: 'tinyconfig', fragments: ['kernel/base.config'] },
  packages: ['busybox'],
  compression: 'xz',
  cmdline: 'console=ttyS0',
  variant: 'release',
  agent: { operatorKeys: ['ed25519:6lerb0hUmgAEOGO3ElAPgtEej-d_zTEv2Pf_YIDViS0'] },
  netboot: { baseUrl: '', runmode: 'test', farmId: '0', extraArgs: '' },
  artifacts: ['efi'],
});

/** Validation must fail with "file: field: problem", never a raw TypeError. */
async function rejects(spec: unknown, field: string, problem: RegExp): Promise<void> {
  await assert.rejects(validateProfile(spec, FILE, 'demo', recipes), (err: unknown) => {
    assert.ok(err instanceof DefinitionError, `expected DefinitionError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`${FILE}: ${field}: `), err.message);
    assert.match(err.message, problem);
    return true;
  });
}

describe('profile validation', () => {
  it('accepts a complete profile', async () => {
    const p = await validateProfile(good(), FILE, 'demo', recipes);
    assert.deepEqual(p.packages, ['busybox']);
    assert.equal(p.file, FILE);
  });

  it('a missing packages list or a string artifacts field is a definition error, not a TypeError', async () => {
    const noPackages = good();
    delete noPackages.packages;
    await rejects(noPackages, 'packages', /must be an array/);
    await rejects({ ...good(), artifacts: 'iso' }, 'artifacts', /must be an array/);
    await rejects({ ...good(), artifacts: ['floppy'] }, 'artifacts[0]', /"floppy" must be one of/);
  });

  it('missing nested objects and wrong types name the field', async () => {
    const noKernel = good();
    delete noKernel.kernel;
    await rejects(noKernel, 'kernel', /must be an object/);
    const noNetboot = good();
    delete noNetboot.netboot;
    await rejects(noNetboot, 'netboot', /must be an object/);
    await rejects({ ...good(), packages: ['busybox', 3] }, 'packages[1]', /must be a string/);
    await rejects({ ...good(), packages: ['nope'] }, 'packages[0]', /unknown recipe "nope"/);
    await rejects({ ...good(), compression: 'bz2' }, 'compression', /must be one of xz/);
    await rejects(
      { ...good(), kernel: { base: 'tinyconfig', fragments: ['../etc/passwd'] } },
      'kernel.fragments[0]',
      /relative to the repository/,
    );
    await rejects(
      { ...good(), kernel: { base: 'tinyconfig', fragments: ['kernel/nope.config'] } },
      'kernel.fragments[0]',
      /does not exist/,
    );
    await rejects(
      { ...good(), netboot: { baseUrl: '', runmode: 'test', farmId: '1 rdinit=/bin/sh', extraArgs: '' } },
      'netboot.farmId',
      /digits/,
    );
    await rejects(null, 'default export', /defineProfile/);
  });

  it('refuses unknown (misspelt) fields at every level', async () => {
    await rejects({ ...good(), artefacts: ['efi'] }, 'artefacts', /unknown field/);
    await rejects(
      { ...good(), kernel: { base: 'tinyconfig', fragments: [], module: true } },
      'kernel.module',
      /unknown field/,
    );
    await rejects({ ...good(), agent: { pasword: 'x' } }, 'agent.pasword', /unknown field/);
    // The shared password is gone: a profile still carrying one is told so, not silently ignored.
    await rejects({ ...good(), agent: { password: 'x' } }, 'agent.password', /unknown field/);
  });

  it('accepts only operator PUBLIC keys in their text form', async () => {
    const key = (k: unknown) => ({
      ...good(),
      agent: { operatorKeys: ['ed25519:6lerb0hUmgAEOGO3ElAPgtEej-d_zTEv2Pf_YIDViS0', k] },
    });
    await rejects(key('ssh-ed25519 AAAAC3Nza'), 'agent.operatorKeys[1]', /must start with "ed25519:"/);
    await rejects(key('ed25519:tooshort'), 'agent.operatorKeys[1]', /43 base64url characters/);
    await rejects(key('-----BEGIN PRIVATE KEY-----'), 'agent.operatorKeys[1]', /must start with/);
    await rejects(key(42), 'agent.operatorKeys[1]', /must be a string/);
    await rejects({ ...good(), agent: { operatorKeys: 'ed25519:x' } }, 'agent.operatorKeys', /array of strings/);
  });
});
