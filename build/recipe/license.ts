import { createRequire } from 'node:module';
import parseSpdx from 'spdx-expression-parse';

/**
 * SPDX license expressions (`GPL-2.0-only`, `MIT OR Apache-2.0`, `GPL-2.0-only WITH
 * Linux-syscall-note`, `LicenseRef-...`), checked with the maintained SPDX parser and license list.
 */

const deprecated = new Set(createRequire(import.meta.url)('spdx-license-ids/deprecated.json') as string[]);

function licensesOf(info: parseSpdx.Info): string[] {
  return 'license' in info ? [info.license] : [...licensesOf(info.left), ...licensesOf(info.right)];
}

/** Why `expr` is not a usable SPDX license expression, or undefined when it is. */
export function spdxProblem(expr: string): string | undefined {
  let info: parseSpdx.Info;
  try {
    info = parseSpdx(expr);
  } catch {
    const examples = '"GPL-2.0-only", "MIT OR Apache-2.0", "LicenseRef-<name>"';
    return `"${expr}" is not a valid SPDX license expression (e.g. ${examples})`;
  }
  const old = licensesOf(info).filter((id) => deprecated.has(id));
  if (old.length) return `"${expr}" uses the deprecated SPDX identifier ${old.join(', ')} (say -only or -or-later)`;
  return undefined;
}
