import { readFile, writeFile } from 'node:fs/promises';
import { ZosError } from '../util/errors.js';

/** `CONFIG_FOO` → its value in a .config or fragment; `n` for "is not set". */
export type KconfigValues = Map<string, string>;

const SET_RE = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET_RE = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

/** Parses .config / fragment text. Throws naming `file` and the line on anything else. */
export function parseKconfig(text: string, file: string): KconfigValues {
  const values: KconfigValues = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const set = line.match(SET_RE);
    const unset = set ? null : line.match(UNSET_RE);
    if (set) values.set(set[1]!, set[2]!);
    else if (unset) values.set(unset[1]!, 'n');
    else if (line !== '' && !line.startsWith('#')) {
      throw new ZosError(
        `${file}:${i + 1}: not a kconfig line: ${raw}`,
        'Use CONFIG_NAME=value or "# CONFIG_NAME is not set".',
      );
    }
  });
  return values;
}

export interface DroppedOption {
  option: string;
  wanted: string;
  got: string;
  /** The fragment that asked for it. */
  file: string;
}

/**
 * Options a fragment asked for that the final config does not have. kconfig silently drops a
 * request whose dependencies are unmet (or that does not exist in this version); this is how that
 * becomes a build failure instead of a kernel that lacks a driver.
 */
export function droppedOptions(
  fragments: ReadonlyArray<{ file: string; values: KconfigValues }>,
  final: KconfigValues,
): DroppedOption[] {
  // Later fragments override earlier ones, as merge_config.sh does.
  const wanted = new Map<string, { value: string; file: string }>();
  for (const f of fragments) for (const [k, v] of f.values) wanted.set(k, { value: v, file: f.file });
  const dropped: DroppedOption[] = [];
  for (const [option, { value, file }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const got = final.get(option) ?? 'n';
    if (got !== value) dropped.push({ option, wanted: value, got: final.has(option) ? got : 'absent', file });
  }
  return dropped;
}

export async function verifyKconfig(
  component: string,
  fragmentFiles: readonly string[],
  configFile: string,
): Promise<void> {
  const fragments = await Promise.all(
    fragmentFiles.map(async (file) => ({ file, values: parseKconfig(await readFile(file, 'utf8'), file) })),
  );
  const final = parseKconfig(await readFile(configFile, 'utf8'), configFile);
  const dropped = droppedOptions(fragments, final);
  if (dropped.length > 0) {
    throw new ZosError(
      `${component}: kconfig dropped ${dropped.length} option(s) the fragments ask for:\n` +
        dropped
          .map((d) => `  ${d.option}=${d.wanted} (from ${d.file}) -> ${d.got === 'n' ? 'not set' : d.got}`)
          .join('\n'),
      'An option is dropped when its dependencies are not enabled or it does not exist in this version: enable its dependencies in the fragment, or remove it.',
    );
  }
}

/**
 * Applies fragments to a .config in place (for Kconfig trees without merge_config.sh, e.g.
 * busybox); the tree's own `oldconfig` must run afterwards to resolve dependencies.
 */
export async function applyFragments(configFile: string, fragmentFiles: readonly string[]): Promise<void> {
  const lines = (await readFile(configFile, 'utf8')).split('\n');
  const index = new Map<string, number>();
  lines.forEach((l, i) => {
    const m = l.match(SET_RE) ?? l.match(UNSET_RE);
    if (m) index.set(m[1]!, i);
  });
  for (const file of fragmentFiles) {
    for (const [k, v] of parseKconfig(await readFile(file, 'utf8'), file)) {
      const line = v === 'n' ? `# ${k} is not set` : `${k}=${v}`;
      const at = index.get(k);
      if (at === undefined) index.set(k, lines.push(line) - 1);
      else lines[at] = line;
    }
  }
  await writeFile(configFile, lines.join('\n'));
}
