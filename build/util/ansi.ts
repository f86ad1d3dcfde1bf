/**
 * Terminal control codes in text we show again (a VM's console, a step's log line). Escape (0x1b)
 * and the other C0 codes are exactly what these patterns look for, hence the lint exceptions.
 */

/** Removes ANSI/VT escape sequences and carriage returns (firmware and iPXE draw with them). */
export function stripEscapes(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point
      .replace(/\x1b[()][A-Z0-9]/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point
      .replace(/\x1b[=>cDEHMNOZ78]/g, '')
      .replace(/\r/g, '')
  );
}

/** Replaces every remaining C0 control code and DEL with a space. */
export function blankControls(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control codes is the point
  return s.replace(/[\x00-\x1f\x7f]/g, ' ');
}
