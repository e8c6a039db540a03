/**
 * `lion study`: the scaling study (see src/study/runner.ts), its table and its report.
 * @module
 */
import { Option, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { StudyConfig } from '../../study/config.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig } from '../../study/config.ts';
import { runStudy } from '../../study/runner.ts';
import { renderTable } from '../../study/report/table.ts';
import { parseFlops } from '../../train/budget.ts';
import { setNumThreads } from '../../torch/index.ts';
import { placement, positiveInt, withPlacement } from '../flags.ts';
import os from 'node:os';

interface Flags {
  preset: string;
  output: string;
  backbone?: string;
  budget?: string;
  report: boolean;
  threads?: string;
  jobs?: string;
  onlyCell?: string;
  config?: string;
  device?: string;
  dtype?: string;
  gradCheckpointing?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('study')
    .description("run the paper's scaling grid (sizes × sparse/dense × CL/KD/CL+KD at a fixed budget), print its table and write the report")
    .option('--preset <name>', 'demo (2 nano sizes, ~20 min on 2 cores), nano (3 sizes), paper (spec hyper-parameters, needs --backbone)', 'demo')
    .option('--output <dir>', 'study folder; rerun with the same folder to resume', 'runs/study')
    .option('--backbone <dirs>', 'comma-separated HF model folders (e.g. Llama-3.2-1B,Llama-3.2-3B,Llama-3-8B) instead of nano backbones')
    .option('--budget <flops>', 'training FLOPs per grid cell (e.g. 1.2e12, 3P)')
    .option('--config <file>', 'JSON object whose fields replace the preset\'s (e.g. {"sizes": [...], "finetune": {...}})')
    .option('--no-report', 'skip the HTML report')
    .option('--threads <n>', 'libtorch intra-op threads (default: 1 for nano backbones, all cores for --backbone)')
    .option('--jobs <n>', 'grid cells trained at once, each in its own process (default: the cores, for nano backbones)')
    .addOption(new Option('--only-cell <name>', 'run one grid cell of an existing study folder (used by --jobs)').hideHelp());
  withPlacement(cmd, { training: true })
    .action(async (f: Flags) => {
      // A child started by --jobs runs exactly its parent's configuration.
      const frozen = path.join(f.output, 'config.json');
      const config = f.onlyCell ? (JSON.parse(readFileSync(frozen, 'utf8')) as StudyConfig) : { ...presetConfig(f.preset), ...(f.config ? (JSON.parse(readFileSync(f.config, 'utf8')) as Partial<StudyConfig>) : {}) };
      if (f.backbone) config.backbones = f.backbone.split(',').map((s) => s.trim()).filter(Boolean);
      if (!f.onlyCell) config.run = { ...placement('study', f), gradCheckpointing: f.gradCheckpointing ?? false };
      if (f.preset === 'paper' && !config.backbones?.length) throw new Error("lion study: the paper preset needs --backbone DIR,DIR,DIR (local Llama-3 folders); hint: use --preset nano on a CPU");
      if (f.budget) config.finetune.flopsPerCell = parseFlops(f.budget);
      // Offline by default from the data mirror beside the checkout, as CI and the demo run.
      const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');
      if (process.env.LION_DATA_MIRROR === undefined && existsSync(shared)) process.env.LION_DATA_MIRROR = shared;
      // Nano models are bound by per-op overhead, not FLOPs: one thread avoids OpenMP barrier waits
      // (measured on 2 cores with the other busy: 70 ms vs 370+ ms per pre-training step).
      setNumThreads(f.threads ? positiveInt('study', '--threads', f.threads) : config.backbones?.length ? os.availableParallelism() : 1);
      const nano = !config.backbones?.length;
      const jobs = f.jobs ? positiveInt('study', '--jobs', f.jobs) : nano ? os.availableParallelism() : 1;
      const spawnCell = (name: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/lion.js', import.meta.url)), 'study', '--output', f.output, '--only-cell', name, '--threads', '1', '--no-report'], { stdio: ['ignore', 'inherit', 'inherit'] });
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lion study: grid cell ${name} failed (exit ${code}); rerun to resume`))));
        });
      const results = await runStudy({ out: f.output, config, jobs, onlyCell: f.onlyCell, spawnCell, log: (l) => console.error(l) });
      if (f.onlyCell) return;
      console.log(renderTable(results));
      if (f.report) {
        const { writeReport } = await import('../../study/report/index.ts');
        const r = await writeReport(path.join(f.output, 'report'), results);
        console.log(`report: ${r.html}`);
      }
      console.log(`study finished in ${((results.wallSeconds ?? 0) / 60).toFixed(1)} min -> ${f.output}`);
      const failed = results.rows.filter((r) => r.failed);
      if (failed.length)
        throw new Error(
          `${failed.length} grid cell(s) failed: ${failed.map((r) => `${r.size}-${r.paradigm}-${r.objective}: ${r.failed}`).join('; ')}; hint: the table and report hold the other cells; rerun the same command to retry the failed ones`,
        );
    });
}
