// Loaded by every entry point: refuse to run a dist/ whose last compile failed (see compiled.ts).
import './compiled.js';

/**
 * Errors a user can cause or fix. Each one names the file, recipe, option or URL at fault and says
 * what to do; the CLI prints `message` (and `hint`) without a stack trace.
 */
export class ZosError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A recipe or profile file is malformed. `file` and `field` say exactly where. */
export class DefinitionError extends ZosError {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
    hint?: string,
  ) {
    super(`${file}: ${field}: ${problem}`, hint);
  }
}

/** Downloaded bytes did not match the pinned sha256. */
export class HashMismatchError extends ZosError {
  constructor(
    readonly recipe: string,
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `recipe ${recipe}: sha256 mismatch for ${url}\n  expected ${expected}\n  actual   ${actual}`,
      'The file was not cached. If the upstream file legitimately changed, update the sha256 in the recipe.',
    );
  }
}

/** A command run by a build step exited non-zero (or was killed). */
export class CommandError extends ZosError {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
  ) {
    super(`command failed (${signal ? `signal ${signal}` : `exit code ${exitCode}`}): ${command}`);
  }
}

/** A build step failed; carries the step log so the CLI can show its tail and path. */
export class StepError extends ZosError {
  constructor(
    readonly step: string,
    override readonly cause: Error,
    readonly logPath: string,
  ) {
    super(`step ${step} failed: ${cause.message}`);
  }
}

/**
 * Why a host tool did not run when the host is at fault: it is not installed (the Debian package
 * that provides it is the hint) or the build's abort stopped it. Undefined for any other failure.
 */
export function hostToolError(what: string, debianPackage: string, err: NodeJS.ErrnoException): ZosError | undefined {
  if (err.code === 'ENOENT')
    return new ZosError(
      `${what} not found on this host`,
      `Install the Debian package ${debianPackage} (ci/install-host-deps does).`,
    );
  if (err.name === 'AbortError') return new ZosError(`${what} stopped: the build was interrupted`);
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
