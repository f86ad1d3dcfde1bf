import type { CommandModule } from 'yargs';
import { toDot, toText } from '../../graph/graph.js';
import { withCommonOptions } from '../options.js';
import { fingerprints, openSession, type CommonArgs } from '../session.js';

interface GraphArgs extends CommonArgs {
  dot: boolean;
  fingerprints: boolean;
}

const command: CommandModule<object, GraphArgs> = {
  command: 'graph',
  describe: 'print the step graph of a profile as text or Graphviz DOT',
  builder: (y) =>
    withCommonOptions(y)
      .option('dot', { type: 'boolean', default: false, describe: 'Graphviz DOT instead of text' })
      .option('fingerprints', {
        type: 'boolean',
        default: false,
        describe: "also print each step's fingerprint and whether it is cached",
      }) as never,
  async handler(argv) {
    const s = await openSession(argv);
    if (argv.dot) {
      process.stdout.write(toDot(s.plan.graph));
      return;
    }
    process.stdout.write(toText(s.plan.graph));
    if (argv.fingerprints) {
      const fps = await fingerprints(s);
      for (const id of s.plan.graph.order) {
        const fp = fps.get(id)!;
        console.log(`${id.padEnd(24)} ${fp.slice(0, 16)} ${(await s.steps.has(fp)) ? 'cached' : 'to build'}`);
      }
    }
  },
};
export default command;
