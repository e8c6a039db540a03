/**
 * Errors for bad input files: every one names the file and line, what is wrong and how to fix it.
 * @module
 */

/** A problem at one line of an input file. The message reads `lion: FILE:LINE: what 'value'; hint: fix`. */
export class DataError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, what: string, hint: string) {
    super(`lion: ${file}:${line}: ${what}; hint: ${hint}`);
    this.name = 'DataError';
    this.file = file;
    this.line = line;
  }
}

/** Shortens a value for an error message, so a 10 kB line does not flood the terminal. */
export function quote(value: string, max = 80): string {
  const v = value.length > max ? `${value.slice(0, max)}…` : value;
  return `'${v}'`;
}
