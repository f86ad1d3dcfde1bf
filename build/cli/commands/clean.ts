import type { CommandModule } from 'yargs';
import { recipeStepId } from '../../recipe/step.js';
import { ZosError } from '../../util/errors.js';
import { rmrf } from '../../util/fs.js';
import { lockCacheAlone } from '../../cache/cache-lock.js';
import { withCommonOptions } from '../options.js';
import { fingerprints, openSession, type CommonArgs } from '../session.js';

interface CleanArgs extends CommonArgs {
  recipes: string[];
  all: boolean;
}

const command: CommandModule<object, CleanArgs> = {
  command: 'clean [recipes..]',
  describe:
    'forget built outputs: of the named recipes, or of the profile (out dir + cached steps); --all also drops downloads',
  builder: (y) =>
    withCommonOptions(y)
      .positional('recipes', { type: 'string', array: true, default: [] as string[] })
      .option('all', {
        type: 'boolean',
        default: false,
        describe: 'remove the whole cache (downloads included) and the out dir',
      }) as never,
  async handler(argv) {
    const s = await openSession(argv);
    const unlock = await lockCacheAlone(s.cacheDir);
    try {
      if (argv.all) {
        await rmrf(s.cacheDir);
        await rmrf(s.outDir);
        console.log(`removed ${s.cacheDir} and ${s.outDir}`);
        return;
      }
      const fps = await fingerprints(s);
      const ids = argv.recipes.length ? argv.recipes.map(recipeStepId) : s.plan.graph.order;
      for (const id of ids) {
        const fp = fps.get(id);
        if (!fp) throw new ZosError(`clean ${id.replace(/^recipe:/, '')}: not a recipe of profile ${s.profile.name}`);
        await rmrf(s.steps.pathOf(fp));
        console.log(`removed ${id} (${fp.slice(0, 12)})`);
      }
      // out/<profile> no longer matches what a build would produce from the cache.
      await rmrf(s.outDir);
    } finally {
      await unlock();
    }
  },
};
export default command;
