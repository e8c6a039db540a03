/**
 * Progress for long jobs: a bar with items/s and ETA on a TTY (cli-progress), nothing otherwise, so that
 * logs and CI output stay clean. Machine-readable progress goes to JSONL logs, not here.
 * @module
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

/** A training loop's progress reports (see train/loop's ProgressEvent) as a bar of steps with loss and tok/s. */
export function stepBar(label: string): (e: { step: number; steps: number; loss?: number; tokensPerSecond?: number; done?: boolean }) => void {
  let bar: Progress | null = null;
  return (e) => {
    bar ??= progress(e.steps, 'steps', label);
    if (e.done) bar.stop();
    else bar.update(e.step, e.loss === undefined ? undefined : { loss: e.loss.toFixed(4), 'tok/s': Math.round(e.tokensPerSecond ?? 0) });
  };
}

/** A progress bar for `total` items named `unit` (e.g. 'texts'), shown only when stderr is a TTY. */
export function progress(total: number, unit: string, label = ''): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const t0 = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label ? `${label} ` : ''}{bar} {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}{extra}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '0', extra: '' });
  return {
    update(done, extra) {
      const secs = (performance.now() - t0) / 1000;
      const more = extra ? ' | ' + Object.entries(extra).map(([k, v]) => `${k} ${v}`).join(' ') : '';
      bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0', extra: more });
    },
    stop() {
      bar.stop();
    },
  };
}
