import type { CommandModule } from 'yargs';
import { fetchSource } from '../../fetch/fetch-source.js';
import { ZosError } from '../../util/errors.js';
import { withCommonOptions } from '../options.js';
import { openSession, type CommonArgs } from '../session.js';

interface FetchArgs extends CommonArgs {
  all: boolean;
}

const command: CommandModule<object, FetchArgs> = {
  command: 'fetch',
  describe: 'download and verify the sources of a profile (or of every recipe), for later --offline builds',
  builder: (y) =>
    withCommonOptions(y).option('all', {
      type: 'boolean',
      default: false,
      describe: "every recipe, not just the profile's",
    }) as never,
  async handler(argv) {
    const s = await openSession(argv);
    const recipes = argv.all ? [...s.recipes.values()] : [...s.plan.recipes.values()];
    const failures: string[] = [];
    await s.env.sources.sweepTemps(); // partial downloads of killed fetches
    const tasks = recipes.flatMap((r) =>
      r.sources.map((src) => ({
        title: `${r.name}: ${src.file}`,
        task: async (_: unknown, task: { title: string; output: string }) => {
          const fmt = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
          await fetchSource(r.name, src, s.env.sources, {
            ...s.env.fetch,
            note: (line) => (task.output = line),
            onProgress: (_url, got, total) => (task.output = total ? `${fmt(got)} / ${fmt(total)}` : fmt(got)),
          }).catch((err: Error) => {
            failures.push(err.message);
            throw err;
          });
          task.title = `${r.name}: ${src.file} (sha256 ok)`;
        },
      })),
    );
    // Try every source even if one fails, then report them all.
    const { Listr } = await import('listr2');
    const list = new Listr(tasks, {
      concurrent: Math.max(1, argv.jobs),
      exitOnError: false,
      renderer: argv.verbose || !process.stdout.isTTY ? 'simple' : 'default',
    } as never);
    await list.run();
    if (failures.length > 0) {
      throw new ZosError(`fetch: ${failures.length} source(s) failed:\n${failures.map((m) => `  ${m}`).join('\n')}`);
    }
    console.log(`sources cached in ${s.env.sources.dir}`);
  },
};
export default command;
