/**
 * `lion doctor`: what Lion computes with on this machine (libtorch, BLAS, threads, devices).
 * @module
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { addonPath, engineInfo, native, LibtorchLoadError } from '../../torch/index.ts';

export interface DoctorReport {
  libtorch: { version: string; path: string | null };
  addon: string;
  blas: string[];
  openmp: string[];
  threads: number;
  devices: string[];
  cudaBuild: boolean;
  node: string;
}

/** Shared libraries mapped into this process whose file name matches `pattern`. */
function mapped(pattern: RegExp): string[] {
  try {
    const paths = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/)[5] ?? '')
      .filter((p) => p && pattern.test(p.split('/').pop() ?? ''));
    return [...new Set(paths)];
  } catch {
    return [];
  }
}

export function doctorReport(): DoctorReport {
  native(); // load first, so that /proc/self/maps shows the libraries it pulled in
  const info = engineInfo();
  return {
    libtorch: { version: info.libtorch, path: mapped(/^libtorch_cpu\.so/)[0] ?? null },
    addon: addonPath,
    blas: mapped(/^lib(open)?blas/),
    openmp: mapped(/^lib(g|i)?omp/),
    threads: info.threads,
    devices: info.devices,
    cudaBuild: info.cudaBuild,
    node: process.version,
  };
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('print the libtorch version and path, the BLAS in use, threads and devices')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      let r: DoctorReport;
      try {
        r = doctorReport();
      } catch (e) {
        if (e instanceof LibtorchLoadError) {
          console.error(e.message);
          process.exit(2);
        }
        throw e;
      }
      if (opts.json) {
        console.log(JSON.stringify(r));
        return;
      }
      const blas = r.blas.length ? r.blas.join(', ') : 'none mapped (libtorch uses its own kernels)';
      const pthreadBlas = r.blas.some((p) => /openblas-pthread/.test(p));
      console.log(`libtorch  ${r.libtorch.version}  ${r.libtorch.path ?? '(path unknown)'}`);
      console.log(`addon     ${r.addon}`);
      console.log(`BLAS      ${blas}`);
      console.log(`OpenMP    ${r.openmp.join(', ') || 'none'}`);
      console.log(`threads   ${r.threads} intra-op (LION_NUM_THREADS to change)`);
      console.log(`devices   ${r.devices.join(', ')}${r.cudaBuild ? '' : '  (libtorch built without CUDA)'}`);
      console.log(`node      ${r.node}`);
      if (pthreadBlas) console.log('warning: the pthread OpenBLAS is loaded; it fights libtorch\'s OpenMP threads (install libopenblas0-openmp and rebuild)');
    });
}
