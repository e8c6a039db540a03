/**
 * The one place a failure becomes the line a user reads: `lion <cmd>: what went wrong; hint: what to
 * do`. Lion's own errors already read that way (a library "lion: …" gets the command's name); raw
 * Node errors (ENOENT, EISDIR, ENOSPC, …) are put into the same form, naming the file.
 * @module
 */

interface SystemError extends Error {
  code?: string;
  path?: string;
  dest?: string;
  syscall?: string;
}

const SYSTEM: Record<string, { problem: string; hint: string }> = {
  ENOENT: { problem: 'no such file or folder', hint: 'check the path (relative paths start at the current folder)' },
  EISDIR: { problem: 'is a folder, not a file', hint: 'name a file inside it' },
  ENOTDIR: { problem: 'a part of the path is a file, not a folder', hint: 'check the path' },
  EACCES: { problem: 'permission denied', hint: 'check the file permissions, or write somewhere you own' },
  EPERM: { problem: 'operation not permitted', hint: 'check the file permissions, or write somewhere you own' },
  ENOSPC: { problem: 'no space left on the device', hint: 'free some disk space and run again (the previous output is intact)' },
  EROFS: { problem: 'the file system is read-only', hint: 'write to another folder' },
  EEXIST: { problem: 'already exists', hint: 'choose a new name' },
  EMFILE: { problem: 'too many open files', hint: "raise the limit ('ulimit -n') or close other programs" },
  ENAMETOOLONG: { problem: 'the name is too long', hint: 'use a shorter path' },
};

const VERB: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create folder',
  rename: 'rename',
  scandir: 'list folder',
  stat: 'find',
  lstat: 'find',
  rmdir: 'remove',
  unlink: 'remove',
  copyfile: 'copy',
};

/** The message for `e`, in Lion's form, for a failure of `lion <cmd>`. */
export function errorMessage(e: unknown, cmd: string): string {
  const who = cmd ? `lion ${cmd}` : 'lion';
  const err: SystemError = e instanceof Error ? e : new Error(String(e));
  const sys = err.code ? SYSTEM[err.code] : undefined;
  if (sys && err.path !== undefined && !err.message.startsWith('lion')) {
    const verb = VERB[err.syscall ?? ''] ?? 'use';
    const target = err.dest ? `'${err.path}' -> '${err.dest}'` : `'${err.path}'`;
    return `${who}: cannot ${verb} ${target}: ${sys.problem} (${err.code}); hint: ${sys.hint}`;
  }
  const msg = err.message;
  if (msg.startsWith('lion: ')) return `${who}: ${msg.slice('lion: '.length)}`;
  if (msg.startsWith('lion ')) return msg;
  if (sys) return `${who}: ${msg}; hint: ${sys.hint}`;
  return `${who}: ${msg}`;
}
