/**
 * Graceful stops on SIGINT / SIGTERM: the first signal asks the running loop to finish its step, write a
 * checkpoint and exit non-zero (a checkpoint every 2000 steps would otherwise lose up to 2000 steps of
 * work); a second signal exits at once (the run then resumes from its previous checkpoint).
 *
 *   const stop = catchStopSignals();          // in a command's action, around the run
 *   ... loop: if (stop.requested) { checkpoint; throw new RunStopped(stop.requested, step, dir) }
 *   stop.dispose();
 *
 * Exit codes follow the shell's convention for death by signal: 128 + signal number (130 SIGINT, 143 SIGTERM).
 */

export type StopSignalName = 'SIGINT' | 'SIGTERM';

export const SIGNAL_EXIT_CODE: Record<StopSignalName, number> = { SIGINT: 130, SIGTERM: 143 };

/** What a training loop polls between steps. */
export interface StopRequest {
  /** The signal that asked to stop, or null while none has. */
  readonly requested: StopSignalName | null;
}

/** Thrown by a loop that stopped on request after writing its checkpoint. */
export class RunStopped extends Error {
  override name = 'RunStopped';
  readonly exitCode: number;
  constructor(
    readonly signal: StopSignalName,
    readonly step: number,
    /** The checkpoint folder written on the way out (absolute), or null when there was nothing to save. */
    readonly checkpoint: string | null,
  ) {
    super(
      `stopped by ${signal} after step ${step}; ` +
        (checkpoint ? `checkpoint written to ${checkpoint}; rerun the same command to resume` : 'no checkpoint written'),
    );
    this.exitCode = SIGNAL_EXIT_CODE[signal];
  }
}

export interface StopHandler extends StopRequest {
  /** Removes the signal handlers (the default behaviour, exit at once, returns). */
  dispose(): void;
}

export interface StopOptions {
  /** Where the notices go (default stderr). */
  write?: (line: string) => void;
  /** How the second signal ends the process (default process.exit); a test hook. */
  exit?: (code: number) => void;
}

/** Installs the SIGINT/SIGTERM handlers for one run. */
export function catchStopSignals(opts: StopOptions = {}): StopHandler {
  const write = opts.write ?? ((l: string) => process.stderr.write(`${l}\n`));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let requested: StopSignalName | null = null;
  const on = (sig: StopSignalName) => {
    if (requested === null) {
      requested = sig;
      write(`${sig}: finishing the current step and writing a checkpoint (send it again to exit at once)`);
      return;
    }
    write(`${sig} again: exiting now; the run resumes from its last checkpoint`);
    exit(SIGNAL_EXIT_CODE[sig]);
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
