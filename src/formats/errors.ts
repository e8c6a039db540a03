/**
 * FormatError: a bad or unreadable model file, named precisely.
 *
 * The message reads `lion: <file>: <what> (tensor|key '<name>'); hint: <fix>` so the CLI can print it as
 * is, and the fields let callers and tests check which file and key were at fault.
 * @module
 */

export class FormatError extends Error {
  /** The file at fault. */
  readonly file: string;
  /** The tensor name or JSON key at fault, when there is one. */
  readonly key: string | undefined;

  constructor(file: string, what: string, options: { key?: string; keyKind?: 'tensor' | 'key'; hint?: string; cause?: unknown } = {}) {
    const key = options.key === undefined ? '' : ` (${options.keyKind ?? 'key'} '${options.key}')`;
    const hint = options.hint === undefined ? '' : `; hint: ${options.hint}`;
    super(`lion: ${file}: ${what}${key}${hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FormatError';
    this.file = file;
    this.key = options.key;
  }
}
