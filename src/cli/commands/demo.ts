/**
 * `lion demo`: the main job of the README's first command. For now a short MLP training run that
 * prints its falling loss; the scaling-study demo replaces it.
 * @module
 */
import type { Command } from 'commander';
import { trainMlp } from '../../demo/mlp.ts';

export function register(program: Command): void {
  program
    .command('demo')
    .description('train a 2-layer MLP with AdamW on libtorch and print its falling loss')
    .option('--steps <n>', 'training steps', '500')
    .action((opts: { steps: string }) => {
      const steps = Number(opts.steps);
      if (!Number.isInteger(steps) || steps < 1) throw new Error(`lion demo: --steps must be a positive integer, got '${opts.steps}'`);
      const t0 = performance.now();
      let window = 0;
      const losses = trainMlp({
        steps,
        onStep: (s, l) => {
          window += l;
          if (s % 50 === 0 || s === steps) {
            console.log(`step ${String(s).padStart(5)}  loss ${(window / (s % 50 || 50)).toFixed(4)}`);
            window = 0;
          }
        },
      });
      const first = losses.slice(0, 20).reduce((a, b) => a + b, 0) / Math.min(20, losses.length);
      const last = losses.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, losses.length);
      console.log(`loss ${first.toFixed(4)} -> ${last.toFixed(4)} in ${steps} steps (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    });
}
