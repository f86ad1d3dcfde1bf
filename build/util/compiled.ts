import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Refuses to run JavaScript from a dist/ whose last compile failed. tsconfig's noEmitOnError keeps
 * tsc from writing code that did not type-check, but the previous good compile stays in dist/: a
 * `node dist/...` after a failed compile would silently run old recipes and old orchestrator code.
 * tsc -b records a failed build in dist/.tsbuildinfo (files still pending emit, diagnostics), so
 * that is what is checked, whichever way tsc was run. A dist/ without the file (an installed
 * package) is trusted.
 *
 * Imported for its side effect by util/errors.ts, which every entry point loads (CLI, bench, tests).
 */
const buildInfo = fileURLToPath(new URL('../../.tsbuildinfo', import.meta.url));

/** Why dist/ must not be run, or undefined when its last compile succeeded. */
export function compileProblem(file = buildInfo): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (/"(affectedFilesPendingEmit|emitDiagnosticsPerFile)"|"errors":true/.test(text)) {
    return 'the last TypeScript compile failed, so dist/ holds code from an earlier compile (or none)';
  }
  return undefined;
}

const problem = compileProblem();
if (problem) {
  process.stderr.write(`error: ${problem}\nhint: fix the errors \`npm run compile\` reports, then run this again.\n`);
  process.exit(2);
}
