import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SourceStore } from '../../build/cache/source-store.js';
import { defaultFetchOptions } from '../../build/fetch/fetch-source.js';
import { fingerprintGraph } from '../../build/graph/fingerprint.js';
import { HostToolVersions } from '../../build/graph/inputs.js';
import { artifactSteps } from '../../build/plan/artifact-steps.js';
import { dependencyClosure, planBuild } from '../../build/plan/plan.js';
import { loadProfile } from '../../build/profile/load.js';
import type { Profile } from '../../build/profile/types.js';
import { loadRecipes } from '../../build/recipe/load.js';
import { profileForRecipe, type BuildEnv } from '../../build/recipe/step.js';
import type { Recipe } from '../../build/recipe/types.js';

// What a commit or a variant change rebuilds, computed on the real recipes and the qemu profile: the
// kernel carries only its own inputs, the project version only reaches what prints it.
describe('what the version and the variant reach (real recipes, qemu profile)', () => {
  let dir: string;
  let recipes: Map<string, Recipe>;
  let qemu: Profile;
  let hostTools: HostToolVersions;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zos-fp-scope-'));
    recipes = await loadRecipes();
    qemu = await loadProfile('qemu', recipes);
    hostTools = new HostToolVersions(join(dir, 'host-tools.json'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fps = async (over: {
    version?: string;
    epoch?: number;
    variant?: 'release' | 'debug';
    /** Other profile fields to change. */
    profile?: Partial<Profile>;
    /** Plan the artifact steps too, with this netboot verification key (null: without one). */
    netbootKey?: Buffer | null;
  }) => {
    const env: BuildEnv = {
      profile: { ...qemu, ...over.profile, variant: over.variant ?? qemu.variant },
      version: over.version ?? '1.0.0',
      epoch: over.epoch ?? 1_700_000_000,
      sources: new SourceStore(join(dir, 'sources')),
      fetch: { ...defaultFetchOptions, mirrors: [], debianArchive: 'http://127.0.0.1:9/debian' },
      hostTools,
    };
    if (over.netbootKey === undefined) return fingerprintGraph(planBuild(env, recipes).graph);
    const netbootVerify = over.netbootKey
      ? { file: 'k.pub', key: over.netbootKey, fingerprint: 'F'.repeat(40) }
      : undefined;
    return fingerprintGraph(planBuild(env, recipes, (e, r) => artifactSteps(e, r, { netbootVerify })).graph);
  };
  const changed = (a: Map<string, string>, b: Map<string, string>) =>
    [...a.keys()].filter((id) => a.get(id) !== b.get(id)).sort();

  it('a netboot verification key reaches only the network artifacts, and another key changes them again', async () => {
    const none = await fps({ netbootKey: null });
    const a = await fps({ netbootKey: Buffer.from('key A') });
    const b = await fps({ netbootKey: Buffer.from('key B') });
    const net = ['artifact:netboot', 'artifact:usb-netboot'].filter((id) => none.has(id));
    assert.ok(net.length > 0, 'the qemu profile writes netboot artifacts');
    assert.deepEqual(changed(none, a), net);
    assert.deepEqual(changed(a, b), net);
  });

  it('a new version and commit time rebuild the agent and the initramfs, not the kernel or other recipes', async () => {
    const a = await fps({});
    const b = await fps({ version: '1.0.1-dev.3+gabcdef0', epoch: 1_700_000_500 });
    assert.deepEqual(changed(a, b), ['initramfs', 'layer:core0', 'recipe:core0']);
  });

  it('a variant change rebuilds only the recipes that declare usesVariant, and repacks the image', async () => {
    const a = await fps({ variant: 'release' });
    const b = await fps({ variant: 'debug' });
    assert.equal(a.get('recipe:linux'), b.get('recipe:linux'), 'the kernel does not depend on the variant');
    const declaring = [...recipes.values()]
      .filter((r) => r.usesVariant)
      .map((r) => `recipe:${r.name}`)
      .filter((id) => a.has(id));
    // A recipe's fingerprint includes its dependencies': those that build on a declaring one change too.
    const affected = [...recipes.values()]
      .filter((r) => r.usesVariant || dependencyClosure(r.name, recipes).some((d) => recipes.get(d)!.usesVariant))
      .map((r) => `recipe:${r.name}`)
      .filter((id) => a.has(id));
    // A release image leaves headers and docs out of every layer: each layer is repacked, no other recipe rebuilt.
    const layers = [...a.keys()].filter((id) => id.startsWith('layer:'));
    assert.deepEqual(changed(a, b), ['initramfs', ...affected, ...layers].sort());
    assert.ok(!affected.includes('recipe:linux-headers') && !affected.includes('recipe:ipxe'), affected.join(', '));
    assert.ok(declaring.includes('recipe:redis') && declaring.includes('recipe:core0'), declaring.join(', '));
  });

  it('a recipe that reads the variant without declaring it fails naming the recipe and the fix', () => {
    const linux = recipes.get('linux')!;
    const seen = profileForRecipe(linux, qemu);
    assert.equal(seen.kernel, qemu.kernel);
    assert.throws(() => seen.variant, /recipe linux reads the build variant but does not declare it/);
    assert.equal(profileForRecipe(recipes.get('redis')!, qemu).variant, qemu.variant);
  });

  it("the agent's settings (operator keys, farm) rebuild the agent, not the kernel or other recipes", async () => {
    const base = await fps({});
    const farm = await fps({ profile: { netboot: { ...qemu.netboot, farmId: '4242' } } });
    const keys = await fps({ profile: { agent: { ...qemu.agent, operatorKeys: [`ed25519:${'A'.repeat(43)}`] } } });
    for (const other of [farm, keys]) {
      const recipesChanged = changed(base, other).filter((id) => id.startsWith('recipe:'));
      assert.deepEqual(recipesChanged, ['recipe:core0']);
      assert.ok(changed(base, other).includes('initramfs'));
    }
  });

  it('every host tool the recipes name reports a version (perl prints an empty line first)', async () => {
    const tools = [...new Set([...recipes.values()].flatMap((r) => [...r.hostTools]))];
    assert.ok(tools.includes('perl'));
    const versions = await hostTools.versions(tools);
    assert.deepEqual(
      tools.filter((t) => !versions[t]),
      [],
    );
    assert.match(versions.perl!, /perl 5/);
  });
});
