/**
 * The resumable run driver that reconstruction (recon.ts) and editing (lib/edit/loop.ts) plug their step
 * into. It owns what the two loops share: the run directory and its lock, resuming from the newest
 * checkpoint (the metrics a killed run logged past it are dropped, since those steps run again), the log
 * and checkpoint cadence, abort through an AbortSignal (checkpoint, then an error), a stop request (SIGINT/SIGTERM: checkpoint, then
 * RunStopped) and `stopAfter`. A loop brings what differs: how it starts or resumes, one step, and what a
 * checkpoint holds.
 *
 * The driver writes nothing but what the loops wrote before it existed, in the same order, so run
 * directories and checkpoints keep their layout (rundir.ts) and a resumed run still ends bit-identical to
 * an uninterrupted one.
 */
import { RunDir, type CheckpointRef } from './rundir.js';
import { RunStopped, type StopRequest } from './stop.js';

/** The options every driven run takes (TrainOptions and EditOptions extend them). */
export interface RunOptions {
  runDir: string;
  /** Called after every step. */
  onStep?: (step: number, total: number) => void;
  signal?: AbortSignal;
  /** Polled after every step: when a stop is requested (SIGINT/SIGTERM, stop.ts), the loop writes a checkpoint and throws RunStopped. */
  stop?: StopRequest;
  /** Stop after this step (for tests that kill a run midway); the run is resumable afterwards. */
  stopAfter?: number;
  log?: (msg: string) => void;
}

/** What a step is told besides its index. */
export interface StepContext {
  /** Whether this step is one the run logs (every `log.every` steps, and the last). */
  logNow: boolean;
  /** Appends a metrics.jsonl row for the step just taken, with the run's iterations per second added last. */
  logMetrics(step: number, values: Record<string, number | string | null>): Promise<void>;
}

/** One run's loop, as the driver sees it. */
export interface RunLoop {
  /** Steps already taken (0 on a fresh start, the checkpoint's step on a resume). */
  readonly startStep: number;
  /** Runs before the first step of this process, after the clock starts (e.g. the editor's initial pass). */
  begin?(): Promise<void>;
  /** Takes step `step` (0-based); afterwards `step + 1` steps are done. */
  step(step: number, ctx: StepContext): Promise<void>;
  /** Called before each checkpoint is written (e.g. to flush a side log up to it). */
  beforeCheckpoint?(): Promise<void>;
  /** The files of the checkpoint after `step` steps. */
  checkpoint(step: number): Promise<Record<string, string | Uint8Array>>;
  /** Releases the loop's resources; runs however the run ends. */
  dispose(): void;
}

/** The fields of a run's config the driver schedules by (reconstruction and edit configs both have them). */
export interface RunSchedule {
  iterations: number;
  log: { every: number };
  checkpoint: { every: number; keep: number };
}

export interface RunSpec {
  /** The resolved config: config.json of a new run directory, and what an existing one must hold; its schedule drives the loop. */
  config: RunSchedule;
  /** Extra fields of meta.json (e.g. the adapter report). */
  meta?: Record<string, unknown>;
  /** Names the run in the abort error: `${what} aborted`. */
  what: string;
  /**
   * Builds the loop: from `latest` when the run directory has a checkpoint, else from scratch. The driver
   * then drops the metrics logged past the loop's `startStep`.
   */
  start(run: RunDir, latest: CheckpointRef | null): Promise<RunLoop>;
}

export interface RunResult {
  run: RunDir;
  /** Steps done when the driver returned. */
  steps: number;
  startStep: number;
  resumedFrom: number | null;
  /** From the first step's clock start (after `start`) to the end, cleanup included. */
  seconds: number;
}

/** Runs (or resumes) `spec` in `opts.runDir` until its iterations are done, `stopAfter`, a stop request or an abort. */
export async function driveRun(spec: RunSpec, opts: RunOptions): Promise<RunResult> {
  const run = await RunDir.open(opts.runDir, spec.config, spec.meta ?? {});
  let loop: RunLoop | undefined;
  let latest: CheckpointRef | null;
  try {
    latest = await run.latestCheckpoint();
    loop = await spec.start(run, latest);
    if (latest) await run.truncateMetrics(loop.startStep);
  } catch (e) {
    loop?.dispose();
    await run.close();
    throw e;
  }
  const startStep = loop.startStep;
  const { iterations: total, log, checkpoint } = spec.config;
  let step = startStep;
  const t0 = performance.now();
  const ctx = (logNow: boolean): StepContext => ({
    logNow,
    logMetrics: (at, values) => run.logMetrics(at, { ...values, itersPerSecond: (at - startStep) / ((performance.now() - t0) / 1000) }),
  });
  try {
    await loop.begin?.();
    while (step < total) {
      if (opts.signal?.aborted) {
        // An abort is how `gae ablate` passes on SIGTERM (a time limit, Slurm's preemption): keep the steps taken
        // since the last checkpoint (up to checkpoint.every of them) so that a rerun resumes from here.
        if (step > startStep && step % checkpoint.every !== 0) {
          await loop.beforeCheckpoint?.();
          await run.saveCheckpoint(step, await loop.checkpoint(step));
          await run.pruneCheckpoints(checkpoint.keep);
        }
        throw new Error(`${spec.what} aborted`);
      }
      const logNow = (step + 1) % log.every === 0 || step + 1 === total;
      await loop.step(step, ctx(logNow));
      step++;
      const stopping = step < total ? (opts.stop?.requested ?? null) : null;
      if (step % checkpoint.every === 0 || step === total || stopping) {
        await loop.beforeCheckpoint?.();
        await run.saveCheckpoint(step, await loop.checkpoint(step));
        await run.pruneCheckpoints(checkpoint.keep);
      }
      if (stopping) throw new RunStopped(stopping, step, (await run.latestCheckpoint())?.dir ?? null);
      opts.onStep?.(step, total);
      if (opts.stopAfter !== undefined && step >= opts.stopAfter) break;
    }
  } finally {
    loop.dispose();
    await run.close();
  }
  return { run, steps: step, startStep, resumedFrom: latest ? startStep : null, seconds: (performance.now() - t0) / 1000 };
}
