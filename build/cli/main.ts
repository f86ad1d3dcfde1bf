#!/usr/bin/env node
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildAbort, tailFile } from '../util/exec.js';
import { CommandError, StepError, ZosError, errorMessage } from '../util/errors.js';

/** Prints what the user needs to act on: the failing command, its log's tail and the log's path. */
async function report(err: unknown): Promise<void> {
  if (err instanceof StepError) {
    console.error(`\nerror: step ${err.step} failed`);
    const cause = err.cause;
    if (cause instanceof CommandError)
      console.error(
        `  command: ${cause.command}\n  ${cause.signal ? `signal ${cause.signal}` : `exit code ${cause.exitCode}`}`,
      );
    else console.error(`  ${errorMessage(cause)}`);
    if (cause instanceof ZosError && cause.hint) console.error(`  hint: ${cause.hint}`);
    const tail = await tailFile(err.logPath, 40).catch(() => '(log unreadable)');
    console.error(`--- last lines of ${err.logPath} ---\n${tail}\n--- full log: ${err.logPath}`);
  } else if (err instanceof ZosError) {
    console.error(`error: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
  } else {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
}

// Files the build creates get the same modes whatever the user's umask (a 027 umask would otherwise
// reach the image as 0750 directories): part of "same inputs, same bytes".
process.umask(0o022);

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${sig}: stopping; nothing unfinished is kept`);
    buildAbort.abort(new ZosError(`interrupted by ${sig}`));
  });
}

/** Every command, in --help's order, by the first word of its usage. */
const COMMANDS: Record<string, () => Promise<{ default: unknown }>> = {
  build: () => import('./commands/build.js'),
  fetch: () => import('./commands/fetch.js'),
  list: () => import('./commands/list.js'),
  graph: () => import('./commands/graph.js'),
  clean: () => import('./commands/clean.js'),
  doctor: () => import('./commands/doctor.js'),
  release: () => import('./commands/release.js'),
  'sign-netboot': () => import('./commands/sign-netboot.js'),
  'verify-repro': () => import('./commands/verify-repro.js'),
  agent: () => import('./commands/agent.js'),
  run: () => import('./commands/run.js'),
};

/**
 * The modules yargs needs: only the named command's (the others' imports cost a no-op build ~50 ms),
 * or all of them for --help, no command or an unknown one (yargs then lists them all).
 */
async function commandModules(): Promise<CommandModule[]> {
  const named = process.argv[2] ?? '';
  const names = Object.hasOwn(COMMANDS, named) && !wantsHelp ? [named] : Object.keys(COMMANDS);
  // Each module is a CommandModule of its own argument type; yargs takes them as its base type.
  return (await Promise.all(names.map((n) => COMMANDS[n]!()))).map((m) => m.default as CommandModule);
}

// yargs renders the command's help after every handler starts, in case it must print it later; our
// failures never do. Wrapping it to the terminal is half of that work: only when help is asked for.
const wantsHelp = process.argv.some((a) => a === '--help' || a === '-h');

try {
  await yargs(hideBin(process.argv))
    .scriptName('zos-build')
    .usage('$0 <command> [options]\n\nBuilds the boot image of a stateless, network-booted Zero-OS node.')
    .command(await commandModules())
    .demandCommand(1, 'Name a command; see --help.')
    .strict()
    .fail((msg, err) => {
      throw err ?? new ZosError(msg);
    })
    .help()
    .alias('help', 'h')
    .wrap(wantsHelp ? Math.min(110, process.stdout.columns || 110) : null)
    .parseAsync();
} catch (err) {
  await report(err);
  buildAbort.abort();
  process.exitCode = interrupted ? 130 : 1;
}
