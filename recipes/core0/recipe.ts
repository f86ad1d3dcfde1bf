import { defineRecipe } from '../../build/recipe/define.js';
import { goBuild } from '../../build/steps/go-build.js';

export default defineRecipe({
  name: 'core0',
  version: '0.1.0',
  license: 'Apache-2.0',
  licenseFiles: ['LICENSE'],
  description: 'The node agent (PID 1): brings the machine up, runs redis, executes commands from its queue',
  provides: ['init'],
  // Built from this repository's agent/ folder: no download.
  stampsProjectVersion: true,
  // Release strips symbols (-s -w).
  usesVariant: true,
  settings: () => ({ files: ['agent'] }),
  build: goBuild({ repoDir: 'agent', binaries: { './cmd/core0': 'sbin/core0' }, versionVar: 'main.version' }),
});
