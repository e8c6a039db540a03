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

/**
 * A command's `--model` and `--adapter` as local folders: hub names are fetched into the cache (with
 * the progress above), and an adapter given as --model (a released Lion checkpoint, say) becomes the
 * adapter, its recorded base model the model. Local folders and files pass through unchanged.
 */
export async function resolveModelFlags(f: { model: string; adapter?: string }): Promise<{ model: string; adapter?: string }> {
  // loaded on use: the hub client is not needed to print help or a version
  const { resolveBackbone } = await import('../model/hub.ts');
  const r = await resolveBackbone({ model: f.model, adapter: f.adapter, paradigm: 'lm' }, hubOptions());
  return r.adapter === undefined ? { model: r.model } : { model: r.model, adapter: r.adapter };
}
