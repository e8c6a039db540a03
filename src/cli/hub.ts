/**
 * Hugging Face Hub downloads as the CLI shows them: one line per file on stderr, and a MiB bar per
 * file on a TTY.
 * @module
 */
import type { HubOptions } from '../model/hub.ts';
import { progress, type Progress } from './progress.ts';

export function hubOptions(): HubOptions {
  let bar: { file: string; p: Progress } | null = null;
  return {
    log: (m) => console.error(`lion: ${m}`),
    onProgress(file, bytes, total) {
      if (!process.stderr.isTTY || total === undefined) return;
      if (bar?.file !== file) {
        bar?.p.stop();
        bar = { file, p: progress(Math.ceil(total / 2 ** 20), 'MiB', file) };
      }
      bar.p.update(Math.floor(bytes / 2 ** 20));
      if (bytes >= total) {
        bar.p.stop();
        bar = null;
      }
    },
  };
}
