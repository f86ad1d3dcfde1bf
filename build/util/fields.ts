import { DefinitionError } from './errors.js';

/**
 * Refuses fields a definition file does not know: a misspelt optional field (`licenceFiles`,
 * `stripComponent`) would otherwise be silently ignored and its default used. `known` is typed by
 * the caller as Record<keyof Spec, true>, so adding a field to the spec without listing it here is
 * a compile error, not a rejected definition.
 */
export function rejectUnknownFields(
  file: string,
  at: string,
  value: object,
  known: Readonly<Record<string, true>>,
): void {
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(known, key)) {
      const field = at ? `${at}.${key}` : key;
      throw new DefinitionError(file, field, `unknown field (known: ${Object.keys(known).sort().join(', ')})`);
    }
  }
}

/** Asserts `value` is a plain object (not null, not an array) for a nested definition field. */
export function requireObject(file: string, field: string, value: unknown): asserts value is Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new DefinitionError(file, field, 'is required and must be an object');
}
