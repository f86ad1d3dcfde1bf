import { join } from 'node:path';
import type { CompileArgs } from '../cli/session.js';
import { which } from '../graph/inputs.js';
import { CompilerWrappers } from './wrappers.js';

/**
 * The compiler wrappers a build asked for. ccache is on by default when it is installed (a build on
 * a host without it just compiles); asking for it explicitly without it installed is an error.
 */
export async function compilerWrappersFor(args: CompileArgs, cacheDir: string): Promise<CompilerWrappers | undefined> {
  const ccache = args.ccache ?? (args.ccacheRemote !== undefined || (await which('ccache')) !== undefined);
  return CompilerWrappers.create({
    ccacheDir: ccache ? (args.ccacheDir ?? join(cacheDir, 'ccache')) : undefined,
    ccacheRemote: args.ccacheRemote,
    distccHosts: args.distcc,
    baseDir: cacheDir,
  });
}
