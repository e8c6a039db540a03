/**
 * `lion study`: the scaling study (see src/study/runner.ts), its table and its report.
 * @module
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig } from '../../study/config.ts';
import { runStudy } from '../../study/runner.ts';
import { renderTable } from '../../study/report/table.ts';
import { parseFlops } from '../../train/budget.ts';
import { setNumThreads } from '../../torch/index.ts';
import { positiveInt } from '../flags.ts';
import os from 'node:os';

interface Flags {
  preset: string;
  output: string;
  backbone?: string;
  budget?: string;
  report: boolean;
  threads?: string;
}

export function register(program: Command): void {
  program
    .command('study')
    .description("run the paper's scaling grid (sizes × sparse/dense × CL/KD/CL+KD at a fixed budget), print its table and write the report")
    .option('--preset <name>', 'demo (2 nano sizes, ~20 min on 2 cores), nano (3 sizes), paper (spec hyper-parameters, needs --backbone)', 'demo')
    .option('--output <dir>', 'study folder; rerun with the same folder to resume', 'runs/study')
    .option('--backbone <dirs>', 'comma-separated HF model folders (e.g. Llama-3.2-1B,Llama-3.2-3B,Llama-3-8B) instead of nano backbones')
    .option('--budget <flops>', 'training FLOPs per grid cell (e.g. 1.2e12, 3P)')
    .option('--no-report', 'skip the HTML report')
    .option('--threads <n>', 'libtorch intra-op threads (default: 1 for nano backbones, all cores for --backbone)')
    .action(async (f: Flags) => {
      const config = presetConfig(f.preset);
      if (f.backbone) config.backbones = f.backbone.split(',').map((s) => s.trim()).filter(Boolean);
      if (f.preset === 'paper' && !config.backbones?.length) throw new Error("lion study: the paper preset needs --backbone DIR,DIR,DIR (local Llama-3 folders); hint: use --preset nano on a CPU");
      if (f.budget) config.finetune.flopsPerCell = parseFlops(f.budget);
      // Offline by default beside ../shared/data, as CI and the demo run.
      const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');
      if (process.env.LION_DATA_MIRROR === undefined && existsSync(shared)) process.env.LION_DATA_MIRROR = shared;
      // Nano models are bound by per-op overhead, not FLOPs: one thread avoids OpenMP barrier waits
      // (measured on 2 cores with the other busy: 70 ms vs 370+ ms per pre-training step).
      setNumThreads(f.threads ? positiveInt('study', '--threads', f.threads) : config.backbones?.length ? os.availableParallelism() : 1);
      const results = await runStudy({ out: f.output, config });
      console.log(renderTable(results));
      if (f.report) {
        const { writeReport } = await import('../../study/report/index.ts');
        const r = await writeReport(path.join(f.output, 'report'), results);
        console.log(`report: ${r.html}`);
      }
      console.log(`study finished in ${((results.wallSeconds ?? 0) / 60).toFixed(1)} min -> ${f.output}`);
    });
}
