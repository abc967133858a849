/**
 * What every `gae` command shares: the error that ends a command with a message and an exit code, `--config`
 * overrides, and step printing. The commands themselves are lib/cli/<command>.ts; main.ts lists them.
 */
import type { Command } from 'commander';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * A command whose module parses its own options (a benchmark, the GPU-machine job runner, the demo): `gae
 * <name> args…` loads the module with process.argv set to `[node, 'gae <name>', ...args]`, exactly as if it
 * had been run on its own, so one file serves `gae` and an esbuild bundle of that file alike (scripts/gpu-pack.sh).
 * `--help` after the name is the module's own.
 */
export function scriptCommand(program: Command, name: string, summary: string, load: () => Promise<unknown>): Command {
  return program
    .command(name)
    .description(summary)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', 'options of the command (see gae ' + name + ' --help)')
    .action(async (args: string[]) => {
      process.argv = [process.argv[0]!, `gae ${name}`, ...args];
      // lib/ has no top-level await (tslab), so a script exports its work as `done`: awaiting it here lets its
      // errors end the command like any other's (main.ts: one line, or the stack with --debug).
      const m = (await load()) as { done?: Promise<unknown> } | undefined;
      await m?.done;
    });
}

/** A `--config <file>` of JSON overrides: {} without one; a CliError naming the file when it cannot be read. */
export async function readConfigOverrides(file: string | undefined): Promise<Record<string, unknown>> {
  if (!file) return {};
  const { readConfigFile } = await import('../util/config.js');
  try {
    return await readConfigFile(file);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

/**
 * Commander argument parsers for numbers, as strict as a config file's: the whole argument must be the
 * number (`5x`, `abc`, `1.9` for an integer are errors, not 5, NaN or 1), within [min, max]. A CliError
 * (exit 2) names the option and the value.
 */
export function intOption(flag: string, range: { min?: number; max?: number } = {}): (v: string) => number {
  return (v) => {
    const n = /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new CliError(`${flag}: '${v}' is not an integer`, 2);
    return inRange(flag, v, n, range);
  };
}

export function numberOption(flag: string, range: { min?: number; max?: number } = {}): (v: string) => number {
  return (v) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n)) throw new CliError(`${flag}: '${v}' is not a number`, 2);
    return inRange(flag, v, n, range);
  };
}

function inRange(flag: string, v: string, n: number, { min, max }: { min?: number; max?: number }): number {
  if (min !== undefined && n < min) throw new CliError(`${flag}: '${v}' is below the minimum ${min}`, 2);
  if (max !== undefined && n > max) throw new CliError(`${flag}: '${v}' is above the maximum ${max}`, 2);
  return n;
}

/**
 * An `onStep` callback that prints `step s/n  (r it/s, ETA m:ss)` about twenty times over a run, and at
 * its end. The rate counts from the first call (a resumed run's earlier steps are not in it).
 */
export function stepPrinter(
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  now: () => number = () => performance.now(),
): (step: number, total: number) => void {
  let last = 0;
  let start: { step: number; t: number } | null = null;
  return (s, n) => {
    const t = now();
    if (start === null) start = { step: s - 1, t: t - 1e-9 };
    if (s - last >= Math.max(1, Math.floor(n / 20)) || s === n) {
      last = s;
      write(`step ${s}/${n}  ${progressRate(s - start.step, (t - start.t) / 1000, n - s)}`);
    }
  };
}

/**
 * A progress callback for one phase of a job: `<label> 12/40  (2.31 it/s, ETA 0:12)`, printed on the first
 * call, then at most every `everyMs` (default 5 s) and at the end, so that no phase is silent for long.
 */
export function progressPrinter(
  label: string,
  opts: { everyMs?: number; unit?: string; write?: (line: string) => void; now?: () => number } = {},
): (done: number, total: number) => void {
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const now = opts.now ?? (() => performance.now());
  const every = opts.everyMs ?? 5000;
  let start: { t: number; done: number } | null = null;
  let last = -Infinity;
  return (done, total) => {
    const t = now();
    start ??= { t, done };
    if (t - last < every && done < total) return;
    last = t;
    const n = done - start.done;
    const rate = n > 0 ? progressRate(n, (t - start.t) / 1000, total - done).replace(' it/s', ` ${opts.unit ?? 'it'}/s`) : '';
    write(`${label} ${done}/${total}  ${rate}`.trimEnd());
  };
}

/** `(2.31 it/s, ETA 1:05)` from `done` units in `seconds`, `left` to go. */
export function progressRate(done: number, seconds: number, left: number): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? left / rate : NaN;
  return `(${rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)} it/s, ETA ${formatDuration(eta)})`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
