import type { CommandModule } from 'yargs';
import { loadRecipes } from '../../recipe/load.js';

const command: CommandModule<object, { json: boolean }> = {
  command: 'list',
  describe: 'list recipes with version, license and pinned sources',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as never,
  async handler(argv) {
    const recipes = [...(await loadRecipes()).values()];
    if (argv.json) {
      const rows = recipes.map((r) => ({
        name: r.name,
        version: r.version,
        license: r.license,
        dependencies: r.dependencies,
        sources: r.sources.map((s) => ({ file: s.file, sha256: s.sha256, locations: s.locations })),
      }));
      console.log(JSON.stringify(rows, null, 2));
      return;
    }
    for (const r of recipes) {
      console.log(`${r.name.padEnd(10)} ${r.version.padEnd(10)} ${r.license.padEnd(16)} ${r.description}`);
      if (r.dependencies.length) console.log(`${''.padEnd(11)}depends on: ${r.dependencies.join(', ')}`);
      for (const s of r.sources) console.log(`${''.padEnd(11)}${s.file}  sha256:${s.sha256}`);
      if (r.sources.length === 0) console.log(`${''.padEnd(11)}(built from this repository)`);
    }
  },
};
export default command;
