/**
 * `--nproc N`: runs the same command as N local ranks (child processes with torchrun's variables),
 * waits for them, and stops them all when one fails or the launcher is interrupted.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { rankEnv } from './group.ts';

/** A TCP port free on the loopback right now (the rendezvous of local ranks). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * True when this process should spawn ranks: --nproc > 1 and it is not a rank already. Under a
 * launcher's variables (WORLD_SIZE > 1) --nproc is a mistake: the launcher already started the ranks.
 */
export function shouldLaunch(cmd: string, nproc: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (nproc <= 1) return false;
  if (env.LION_PARENT_PID) return false;
  if (rankEnv(env)) throw new Error(`lion ${cmd}: --nproc ${nproc} under a launcher (WORLD_SIZE=${env.WORLD_SIZE}); hint: drop --nproc, the launcher starts the ranks`);
  return true;
}

/**
 * Spawns `nproc` ranks running this process's own command line. Intra-op threads are split between
 * them (cores / nproc each) unless LION_NUM_THREADS says otherwise. Resolves to the exit status.
 */
export async function launchRanks(nproc: number, o: { argv?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const port = await freePort();
  const argv = o.argv ?? [...process.execArgv, ...process.argv.slice(1)];
  const base = o.env ?? process.env;
  const threads = base.LION_NUM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / nproc)));
  const children: ChildProcess[] = [];
  const stopAll = (signal: NodeJS.Signals): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onSignal = (s: NodeJS.Signals): void => stopAll(s);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const exits = Array.from({ length: nproc }, (_, rank) => {
      const env = { ...base, WORLD_SIZE: String(nproc), RANK: String(rank), LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(nproc), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), LION_PARENT_PID: String(process.pid), LION_NUM_THREADS: threads };
      const c = spawn(process.execPath, argv, { env, stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', 'inherit'] });
      children.push(c);
      return new Promise<number>((resolve) => {
        c.on('error', () => resolve(1));
        c.on('exit', (code, signal) => {
          const status = code ?? (signal ? 128 : 1);
          // One rank down means the others would wait in a collective until the timeout: stop them.
          if (status !== 0) stopAll('SIGTERM');
          resolve(status);
        });
      });
    });
    const codes = await Promise.all(exits);
    return codes.find((c) => c !== 0) ?? 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
