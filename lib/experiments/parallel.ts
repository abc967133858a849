/**
 * `gae ablate --parallel K` on one machine: the shared prerequisites first (`--prepare`, one process), then K
 * worker slots, each running one cell at a time as its own `gae ablate --cell <key>` process. A cell in its own
 * process gets its own WebGPU device and its own Dawn instance, and a crash stays inside it.
 *
 * GPU pinning: worker i gets GAE_GPU_INDEX=i mod G (G from GAE_GPUS or CUDA_VISIBLE_DEVICES, default 1) and
 * CUDA_VISIBLE_DEVICES narrowed to that one GPU, which lib/gpu/device.ts turns into an adapter choice
 * (docs/cluster.md says how and where that holds).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { GridConfig } from './config.js';
import { cellDir, cellHash, cellKey, expandGrid, gridDir, readDone, type Cell } from './runner.js';
import { gaeSelf } from './slurm.js';

export interface ParallelOptions {
  parallel: number;
  /** Start no cell after this many seconds from the call (the prepare step included); running cells finish. */
  startBudgetSeconds?: number;
  /** Arguments every child repeats (--out-dir, --plugin, --on-stale). */
  ablateArgs: string[];
  /** The filter as arguments (--method, --seed, …): the prepare step builds only what these cells share. */
  filterArgs?: string[];
  log: (m: string) => void;
  /** How to start gae (default: this Node binary and this checkout's bin/gae.mjs). */
  gaeCommand?: string[];
}

/** The GPUs a worker may be pinned to: GAE_GPUS (a count), else CUDA_VISIBLE_DEVICES's list, else one. */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.GAE_GPUS) {
    const n = Number(env.GAE_GPUS);
    if (!Number.isInteger(n) || n < 1) throw new Error(`GAE_GPUS: '${env.GAE_GPUS}' is not a positive integer`);
    return Array.from({ length: n }, (_, i) => String(i));
  }
  const cuda = env.CUDA_VISIBLE_DEVICES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return cuda && cuda.length ? cuda : ['0'];
}

function gae(o: ParallelOptions): string[] {
  return o.gaeCommand ?? gaeSelf();
}

function runChild(cmd: string[], env: NodeJS.ProcessEnv, onLine: (l: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const feed = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    p.stdout.on('data', feed);
    p.stderr.on('data', feed);
    const forward = (sig: NodeJS.Signals) => p.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    p.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (buf) onLine(buf);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** Runs the pending cells K at once; resolves to 0 when every cell finished, else 1. */
export async function runParallel(configFile: string, cfg: GridConfig, filter: (c: Cell) => boolean, o: ParallelOptions): Promise<number> {
  const root = gridDir(cfg);
  const pending = expandGrid(cfg)
    .filter(filter)
    .filter((c) => {
      const d = readDone(cellDir(root, c));
      return !(d && d.hash === cellHash(c));
    });
  o.log(`gae ablate: ${pending.length} cells to run, ${o.parallel} at once`);
  if (pending.length === 0) return 0;
  const startUntil = performance.now() + (o.startBudgetSeconds ?? Infinity) * 1000;
  const base = [...gae(o), 'ablate', path.resolve(configFile), ...o.ablateArgs];
  const prep = await runChild([...base, ...(o.filterArgs ?? []), '--prepare'], process.env, (l) => o.log(`[prepare] ${l}`));
  if (prep !== 0) {
    o.log('gae ablate: preparing the shared prerequisites failed; no cell was started');
    return 1;
  }
  const gpus = visibleGpus();
  let next = 0;
  let failed = 0;
  const worker = async (slot: number) => {
    const gpu = gpus[slot % gpus.length]!;
    while (next < pending.length) {
      if (performance.now() > startUntil) {
        o.log(`[${slot}] start budget spent: ${pending.length - next} cells left for a later run`);
        return;
      }
      const c = pending[next++]!;
      const key = cellKey(c);
      const env = { ...process.env, GAE_GPU_INDEX: String(slot % gpus.length), CUDA_VISIBLE_DEVICES: gpu };
      const code = await runChild([...base, '--cell', key], env, (l) => o.log(`[${slot}] ${l}`));
      if (code !== 0) failed++;
      o.log(`[${slot}] ${code === 0 ? 'finished' : `failed (exit ${code})`} ${key} on GPU ${gpu}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, pending.length) }, (_, i) => worker(i)));
  return failed || next < pending.length ? 1 : 0;
}
