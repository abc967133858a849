/** `gae ablate`: runs an ablation grid from a config, resumable, with a progress bar. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { CliError, intOption } from './modules.js';

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export function register(program: Command): void {
  program
    .command('ablate')
    .description(
      'run an ablation grid (methods × subjects × edits × seeds, each evaluated on its tasks) from a config; finished cells are skipped, killed ones restarted',
    )
    .argument('<config>', 'grid config (experiments/*.json)')
    .option('-j, --concurrency <n>', "cells at once (default: the config's, else 1)", intOption('--concurrency', { min: 1 }))
    .option('--plugin <module>', 'ES module that registers cell runners (repeatable)', (v, p: string[] = []) => [...p, v])
    .option('--method <names>', 'only these methods (comma-separated, repeatable)', list)
    .option('--subject <names>', 'only these subjects', list)
    .option('--edit <ids>', 'only these edits', list)
    .option('--seed <seeds>', 'only these seeds', list)
    .option('--skip-failed', 'leave cells that failed before as they are')
    .option('--on-stale <what>', "a finished cell whose config changed: 'error', 'rerun' or 'keep'", 'error')
    .option('--out-dir <dir>', "override the config's outDir")
    .option('--dry-run', 'list the cells and their state; run nothing')
    .option('--executor <where>', "'local' (this machine) or 'slurm' (an sbatch array job, one task per pending cell)", 'local')
    .option('--parallel <k>', 'local: run K cells at once, each in its own process pinned to GPU i mod (GPUs)', (v) => Number.parseInt(v, 10))
    .option('--partition <p>', 'slurm: partition')
    .option('--gpus-per-cell <n>', 'slurm: GPUs per array task', (v) => Number.parseInt(v, 10), 1)
    .option('--cpus-per-cell <n>', 'slurm: CPUs per array task', (v) => Number.parseInt(v, 10), 4)
    .option('--time <limit>', 'slurm: wall-time limit per cell (a killed cell resumes from its checkpoint when resubmitted)', '00:30:00')
    .option('--max-parallel <k>', 'slurm: at most K array tasks at once', (v) => Number.parseInt(v, 10))
    .option('--sbatch-arg <arg>', 'slurm: passed to sbatch as it is (repeatable), e.g. --sbatch-arg=--account=lab', (v, p: string[] = []) => [...p, v])
    .option('--status', 'show each cell: done, running or queued (with its Slurm job and task), failed (with the last lines of its log), not submitted')
    .option('--resubmit-failed', 'slurm: submit the failed cells again (killed ones resume from their checkpoints)')
    .option('--cell <key>', 'run exactly this one cell (method/subject/edit/seed-N); what each Slurm array task runs')
    .option('--start-budget <s>', 'local: start no cell after S seconds (running cells finish; a rerun resumes the rest)', (v) => Number(v))
    .option('--prepare', "run only the runners' shared prerequisites (datasets, reconstructions); what the Slurm prepare job runs")
    .action(async (configFile: string, o: AblateOptions) => {
      const { loadGridConfig } = await import('../experiments/config.js');
      const { runGrid, expandGrid, cellKey, cellDir, gridDir, readDone } = await import('../experiments/runner.js');
      const { listCellRunners } = await import('../experiments/registry.js');
      // Importing runners.js registers the built-in cell runners.
      const { loadPlugins } = await import('../experiments/runners.js');
      const { loadGridResults, writeGridResults } = await import('../experiments/results.js');
      if (!['error', 'rerun', 'keep'].includes(o.onStale)) throw new CliError(`--on-stale: '${o.onStale}' is not one of error, rerun, keep`, 2);
      if (o.concurrency !== undefined && !(o.concurrency >= 1)) throw new CliError('--concurrency: give a positive integer', 2);
      if (o.startBudget !== undefined && !(o.startBudget >= 0)) throw new CliError('--start-budget: give a number of seconds ≥ 0', 2);
      let cfg;
      try {
        cfg = loadGridConfig(configFile);
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      if (o.outDir) cfg = { ...cfg, outDir: o.outDir };
      await loadPlugins(o.plugin ?? []);
      const filter = (c: ReturnType<typeof expandGrid>[number]) =>
        (!o.cell || cellKey(c) === o.cell) &&
        (!o.method || o.method.includes(c.method.name)) &&
        (!o.subject || o.subject.includes(c.subject)) &&
        (!o.edit || o.edit.includes(c.edit.id)) &&
        (!o.seed || o.seed.includes(String(c.seed)));
      const root = gridDir(cfg);
      if (o.executor !== 'local' && o.executor !== 'slurm') throw new CliError(`--executor: '${o.executor}' is not local or slurm`, 2);
      if (o.cell) {
        const keys = expandGrid(cfg).map(cellKey);
        if (!keys.includes(o.cell)) throw new CliError(`--cell: '${o.cell}' is not a cell of ${configFile} (cells look like ${keys[0]})`, 2);
      }
      if (o.status) {
        const { gridStatus } = await import('../experiments/slurm.js');
        printStatus(gridStatus(cfg, filter));
        return;
      }
      if (o.prepare) {
        const { prepareGrid } = await import('../experiments/runner.js');
        const n = await prepareGrid(cfg, { filter, log: (m) => process.stderr.write(`${m}\n`) });
        process.stdout.write(`gae ablate: prerequisites of ${n} pending cells ready\n`);
        return;
      }
      if (o.executor === 'slurm' || o.resubmitFailed) {
        await submitToSlurm(configFile, cfg, filter, o);
        return;
      }
      if (o.parallel !== undefined) {
        if (!(o.parallel >= 1)) throw new CliError('--parallel: give a positive integer', 2);
        const { runParallel } = await import('../experiments/parallel.js');
        const code = await runParallel(configFile, cfg, filter, {
          parallel: o.parallel,
          ...(o.startBudget !== undefined ? { startBudgetSeconds: o.startBudget } : {}),
          ablateArgs: forwardedArgs(o),
          filterArgs: filterArgs(o),
          log: (m) => process.stderr.write(`${m}\n`),
        });
        const res = await loadGridResults(root);
        const files = await writeGridResults(res, path.join(root, 'report'));
        process.stdout.write(`results: ${files.find((f) => f.endsWith('summary.csv'))}\n`);
        process.exitCode = code;
        return;
      }
      if (o.dryRun) {
        for (const c of expandGrid(cfg).filter(filter)) {
          const done = readDone(cellDir(root, c));
          process.stdout.write(`${done ? 'done   ' : 'pending'} ${cellKey(c)}  (runner ${c.method.runner})\n`);
        }
        process.stdout.write(`runners registered: ${listCellRunners().join(', ') || '(none)'}\n`);
        return;
      }
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        if (++interrupts > 1) process.exit(130);
        process.stderr.write('\ngae ablate: stopping after the running cells (Ctrl-C again to quit now; a rerun resumes)\n');
        ac.abort();
      };
      process.on('SIGINT', onSigint);
      // Slurm's scancel, a time limit and preemption send SIGTERM, possibly more than once, then SIGKILL after
      // KillWait: stop at the next step so that failed.json says 'aborted' and a resubmitted task resumes from
      // the last checkpoint. Unlike a second Ctrl-C, a repeated SIGTERM does not exit at once.
      const onSigterm = () => {
        if (!ac.signal.aborted) process.stderr.write('\ngae ablate: SIGTERM: stopping the running cells at their next step (a rerun resumes)\n');
        ac.abort();
      };
      process.on('SIGTERM', onSigterm);
      const progress = await makeProgress();
      try {
        const summary = await runGrid(cfg, {
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
          filter,
          retryFailed: !o.skipFailed,
          onStale: o.onStale as 'error' | 'rerun' | 'keep',
          signal: ac.signal,
          ...(o.startBudget !== undefined ? { startUntil: performance.now() + o.startBudget * 1000 } : {}),
          onEvent: progress.onEvent,
        });
        progress.stop();
        const res = await loadGridResults(root);
        const files = await writeGridResults(res, path.join(root, 'report'));
        process.stdout.write(
          `gae ablate: ${summary.total} cells: ${summary.done.length} run, ${summary.skipped.length} already done, ${summary.failed.length} failed` +
            `${summary.busy.length ? `, ${summary.busy.length} busy in another process` : ''}${summary.aborted.length ? `, ${summary.aborted.length} interrupted` : ''}\n` +
            `results: ${files.find((f) => f.endsWith('summary.csv'))}\n`,
        );
        for (const f of summary.failed) process.stdout.write(`  failed ${f.key}: ${f.error}\n`);
        if (summary.failed.length || summary.aborted.length) process.exitCode = 1;
      } catch (e) {
        progress.stop();
        throw new CliError(`gae ablate: ${(e as Error).message}`, 1);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
      }
    });
}

interface AblateOptions {
  concurrency?: number;
  plugin?: string[];
  method?: string[];
  subject?: string[];
  edit?: string[];
  seed?: string[];
  skipFailed?: boolean;
  onStale: string;
  outDir?: string;
  dryRun?: boolean;
  executor: string;
  parallel?: number;
  partition?: string;
  gpusPerCell: number;
  cpusPerCell: number;
  time: string;
  maxParallel?: number;
  sbatchArg?: string[];
  status?: boolean;
  resubmitFailed?: boolean;
  cell?: string;
  prepare?: boolean;
  startBudget?: number;
}

/** The options a cell's own `gae ablate --cell` must repeat to see the same grid. */
function forwardedArgs(o: AblateOptions): string[] {
  return [...(o.outDir ? ['--out-dir', o.outDir] : []), ...(o.plugin ?? []).flatMap((p) => ['--plugin', path.resolve(p)]), '--on-stale', o.onStale];
}

/** The cell filter as `gae ablate` arguments, for a child that must see the same cells. */
function filterArgs(o: AblateOptions): string[] {
  const out: string[] = [];
  for (const [flag, v] of [
    ['--method', o.method],
    ['--subject', o.subject],
    ['--edit', o.edit],
    ['--seed', o.seed],
  ] as const)
    if (v?.length) out.push(flag, v.join(','));
  if (o.cell) out.push('--cell', o.cell);
  return out;
}

async function submitToSlurm(
  configFile: string,
  cfg: import('../experiments/config.js').GridConfig,
  filter: (c: import('../experiments/runner.js').Cell) => boolean,
  o: AblateOptions,
): Promise<void> {
  const { cellsToSubmit, submitCells, SlurmError } = await import('../experiments/slurm.js');
  for (const [name, v] of [
    ['--gpus-per-cell', o.gpusPerCell],
    ['--cpus-per-cell', o.cpusPerCell],
  ] as const) {
    if (!Number.isInteger(v) || v < (name === '--gpus-per-cell' ? 0 : 1))
      throw new CliError(`${name}: '${v}' is not a ${name === '--gpus-per-cell' ? 'non-negative' : 'positive'} integer`, 2);
  }
  if (o.maxParallel !== undefined && !(o.maxParallel >= 1)) throw new CliError('--max-parallel: give a positive integer', 2);
  if (!/^(\d+-)?\d+(:\d+){0,2}$/.test(o.time)) throw new CliError(`--time: '${o.time}' is not a Slurm time (minutes, MM:SS, HH:MM:SS or D-HH:MM:SS)`, 2);
  const cells = cellsToSubmit(cfg, filter, !!o.resubmitFailed);
  if (cells.length === 0) {
    process.stdout.write(`gae ablate: nothing to submit (${o.resubmitFailed ? 'no failed cells' : 'every cell is done, queued or running'}); see --status\n`);
    return;
  }
  try {
    const sub = await submitCells(cfg, cells, {
      ...(o.partition ? { partition: o.partition } : {}),
      gpusPerCell: o.gpusPerCell,
      cpusPerCell: o.cpusPerCell,
      time: o.time,
      ...(o.maxParallel ? { maxParallel: o.maxParallel } : {}),
      sbatchArgs: o.sbatchArg ?? [],
      configFile,
      ablateArgs: forwardedArgs(o),
    });
    process.stdout.write(
      `gae ablate: submitted ${cells.length} cells as array job ${sub.arrayJob} (after prepare job ${sub.prepareJob})\n` +
        `  follow:  squeue -j ${sub.prepareJob},${sub.arrayJob}   or   gae ablate ${configFile} --status\n` +
        `  scripts: ${sub.dir}\n` +
        `  each cell logs to its folder (slurm-${sub.arrayJob}_<task>.log, log.txt); gae report works while the grid runs\n`,
    );
  } catch (e) {
    if (e instanceof SlurmError) throw new CliError(`gae ablate: ${e.message}`, 1);
    throw e;
  }
}

function printStatus(rows: import('../experiments/slurm.js').CellStatus[]): void {
  const counts = new Map<string, number>();
  for (const r of rows) {
    counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    process.stdout.write(`${r.state.padEnd(13)} ${r.key}${r.slurm ? `  (slurm ${r.slurm}${r.slurmState ? ` ${r.slurmState}` : ''})` : ''}\n`);
    if (r.state === 'failed' && r.detail)
      process.stdout.write(
        r.detail
          .split('\n')
          .map((l) => `    | ${l}`)
          .join('\n') + '\n',
      );
  }
  process.stdout.write(`${rows.length} cells: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
}

/** A cli-progress bar on a terminal; one line per finished cell otherwise (logs, CI). */
async function makeProgress() {
  type Ev = import('../experiments/runner.js').GridEvent;
  if (!process.stderr.isTTY) {
    return {
      onEvent(e: Ev) {
        if (e.type === 'plan') process.stderr.write(`gae ablate: ${e.total} cells, ${e.finished} already done, ${e.pending} to run\n`);
        if (e.type === 'end')
          process.stderr.write(
            `${e.status.padEnd(7)} ${e.key}${e.wallSeconds !== undefined ? ` (${e.wallSeconds.toFixed(1)} s)` : ''}${e.error ? `: ${e.error}` : ''}\n`,
          );
      },
      stop() {},
    };
  }
  const { MultiBar, Presets } = await import('cli-progress');
  const multi = new MultiBar(
    { stream: process.stderr, format: ' {bar} {value}/{total} cells | {eta_formatted} left | {cell}', hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  let bar: ReturnType<InstanceType<typeof MultiBar>['create']> | undefined;
  return {
    onEvent(e: Ev) {
      if (e.type === 'plan') bar = multi.create(e.total, e.finished, { cell: '' });
      if (e.type === 'start') bar?.update({ cell: e.key });
      if (e.type === 'end') {
        if (e.status !== 'busy') bar?.increment({ cell: e.key });
        if (e.status !== 'done' && e.status !== 'skipped') multi.log(`${e.status} ${e.key}${e.error ? `: ${e.error}` : ''}\n`);
      }
    },
    stop() {
      multi.stop();
    },
  };
}
