import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { defineRecipe } from '../../build/recipe/define.js';
import { goBuild } from '../../build/steps/go-build.js';
import { CORE0_CONF, core0Conf } from './conf.js';

export default defineRecipe({
  name: 'core0',
  version: '0.1.0',
  license: 'Apache-2.0',
  licenseFiles: ['LICENSE'],
  description: 'The node agent (PID 1): brings the machine up, runs redis, executes commands from its queue',
  provides: ['init'],
  // Built from this repository's agent/ folder: no download.
  stampsProjectVersion: true,
  // Release strips symbols (-s -w); debug turns on the agent's debug log (conf.ts).
  usesVariant: true,
  // The agent's defaults (operator keys, run mode, farm) come from the profile: they are this recipe's inputs.
  settings: (profile) => ({ files: ['agent'], values: { conf: core0Conf(profile) } }),
  build: goBuild({
    repoDir: 'agent',
    binaries: { './cmd/core0': 'sbin/core0' },
    versionVar: 'main.version',
    async postInstall({ ctx, stage }) {
      const file = join(stage, CORE0_CONF);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, String(ctx.values.conf), { mode: 0o600 });
    },
  }),
});
