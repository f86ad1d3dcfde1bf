import { mkdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from '../graph/inputs.js';
import { ZosError } from '../util/errors.js';

/**
 * Compiler caching (ccache) and distributed compilation (distcc) for every C/C++ step, whatever its
 * build system: a directory of compiler names (gcc, cc, g++, the triplet names musl-gcc calls) that
 * are symlinks to ccache (or distcc) goes first in PATH. Each finds the real compiler further down
 * PATH (ccache's and distcc's "masquerade" mode), so recipes, kbuild and autotools need no change.
 *
 * None of this enters a fingerprint: a cache hit returns the bytes the compiler wrote, and a distcc
 * job runs the same compiler on the same preprocessed input (tests compare outputs byte for byte).
 */
export interface CompilerOptions {
  /** ccache's directory; undefined: no ccache. */
  ccacheDir?: string;
  /** ccache's remote_storage, e.g. `http://cache:8080/ccache` or `redis://host`. */
  ccacheRemote?: string;
  /** distcc hosts (DISTCC_HOSTS syntax, e.g. `127.0.0.1:3632/2 build2`). */
  distccHosts?: string;
  /**
   * Absolute paths under it are hashed relative to the compile's directory (ccache base_dir): build
   * dirs and the step cache live here, so a rebuild in another work dir still hits.
   */
  baseDir: string;
}

/** What masquerades: the names builds call, and the triplet names musl-gcc and Debian's gcc run. */
const COMPILER_NAMES = ['cc', 'gcc', 'c++', 'g++', 'x86_64-linux-gnu-gcc', 'x86_64-linux-gnu-g++'];

/**
 * Options that differ between work dirs but map every build to the same paths (`<srcDir>/=`): left
 * out of ccache's hash so a build in a fresh work dir hits what another one stored.
 */
const PATH_MAP_OPTIONS = '-ffile-prefix-map=* -fdebug-prefix-map=* -fmacro-prefix-map=*';

const STATS_FILE = 'ccache-stats.log';

export class CompilerWrappers {
  private constructor(
    private readonly opts: CompilerOptions,
    private readonly binDir: string,
  ) {}

  /** Sets up the wrapper dir under `opts.baseDir`; undefined when neither ccache nor distcc is on. */
  static async create(opts: CompilerOptions): Promise<CompilerWrappers | undefined> {
    const tool = opts.ccacheDir ? 'ccache' : opts.distccHosts ? 'distcc' : undefined;
    if (!tool) return undefined;
    for (const t of [tool, ...(opts.distccHosts ? ['distcc'] : [])]) {
      if (!(await which(t))) {
        throw new ZosError(
          `${t} is not installed (asked for by ${t === 'ccache' ? '--ccache' : '--distcc'})`,
          `Install it with \`apt-get install -y ${t}\` (ci/install-host-deps does), ` +
            `or build with ${t === 'ccache' ? '--no-ccache' : 'no --distcc'}.`,
        );
      }
    }
    const target = (await which(tool))!;
    const binDir = join(opts.baseDir, `${tool}-bin`);
    await mkdir(binDir, { recursive: true });
    for (const name of COMPILER_NAMES) {
      const link = join(binDir, name);
      if ((await readlink(link).catch(() => undefined)) === target) continue;
      await rm(link, { force: true });
      await symlink(target, link);
    }
    if (opts.ccacheDir) await mkdir(opts.ccacheDir, { recursive: true });
    // distcc's lock and state files; it does not create the directory itself.
    if (opts.distccHosts) await mkdir(join(opts.baseDir, 'distcc'), { recursive: true });
    return new CompilerWrappers(opts, binDir);
  }

  /** One line for the build's header, e.g. `ccache /c/ccache + remote http://..., distcc 127.0.0.1:3632`. */
  describe(): string {
    const parts: string[] = [];
    const { ccacheDir, ccacheRemote } = this.opts;
    if (ccacheDir) parts.push(`ccache ${ccacheDir}${ccacheRemote ? ` + remote ${ccacheRemote}` : ''}`);
    if (this.opts.distccHosts) parts.push(`distcc ${this.opts.distccHosts}`);
    return parts.join(', ');
  }

  /** Environment of a step that compiles in `workDir` (its own ccache statistics file lives there). */
  env(workDir: string): Record<string, string> {
    const env: Record<string, string> = { PATH: `${this.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const { ccacheDir, ccacheRemote, distccHosts, baseDir } = this.opts;
    if (ccacheDir) {
      Object.assign(env, {
        CCACHE_DIR: ccacheDir,
        CCACHE_BASEDIR: baseDir,
        // The compile's directory is a fresh work dir each time: not part of the key.
        CCACHE_NOHASHDIR: '1',
        CCACHE_IGNOREOPTIONS: PATH_MAP_OPTIONS,
        CCACHE_STATSLOG: join(workDir, STATS_FILE),
        // Only the options given here apply: no user or system ccache.conf changes what is cached.
        CCACHE_CONFIGPATH: join(ccacheDir, 'ccache.conf'),
      });
      if (ccacheRemote) env.CCACHE_REMOTE_STORAGE = ccacheRemote;
      if (distccHosts) env.CCACHE_PREFIX = 'distcc';
    }
    if (distccHosts) {
      // A host that is down is an error, not a silent local compile: what was asked for is what ran.
      Object.assign(env, { DISTCC_HOSTS: distccHosts, DISTCC_FALLBACK: '0', DISTCC_DIR: join(baseDir, 'distcc') });
    }
    return env;
  }

  /** ccache's counters for the compiles of one step, e.g. `ccache: 120 hits (3 remote), 4 misses`. */
  async summary(workDir: string): Promise<string | undefined> {
    if (!this.opts.ccacheDir) return undefined;
    return summarizeStatsLog(await readFile(join(workDir, STATS_FILE), 'utf8').catch(() => ''));
  }
}

export interface CcacheCounts {
  hits: number;
  direct: number;
  preprocessed: number;
  misses: number;
  remoteHits: number;
  uncacheable: number;
}

/** Counts ccache's stats_log lines (one counter name per line, `# file` before each compile). */
export function countStatsLog(text: string): CcacheCounts {
  const c: CcacheCounts = { hits: 0, direct: 0, preprocessed: 0, misses: 0, remoteHits: 0, uncacheable: 0 };
  let compiles = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) compiles++;
    else if (line === 'direct_cache_hit') c.direct++;
    else if (line === 'preprocessed_cache_hit') c.preprocessed++;
    else if (line === 'cache_miss') c.misses++;
    else if (line === 'remote_storage_hit') c.remoteHits++;
  }
  c.hits = c.direct + c.preprocessed;
  c.uncacheable = Math.max(0, compiles - c.hits - c.misses);
  return c;
}

export function summarizeStatsLog(text: string): string {
  const c = countStatsLog(text);
  return (
    `ccache: ${c.hits} hits (${c.direct} direct, ${c.preprocessed} preprocessed, ${c.remoteHits} from remote storage), ` +
    `${c.misses} misses, ${c.uncacheable} not cacheable (links, configure probes)`
  );
}
