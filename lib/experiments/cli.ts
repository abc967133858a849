/** `gae ablate`: runs an ablation grid from a config, resumable, with a progress bar. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { CliError, intOption } from '../cli/modules.js';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command): void {
  program
    .command('ablate')
    .description('run an ablation grid (methods × subjects × edits × seeds, each evaluated on its tasks) from a config; finished cells are skipped, killed ones restarted')
    .argument('<config>', 'grid config (experiments/*.json)')
    .option('-j, --concurrency <n>', 'cells at once (default: the config\'s, else 1)', intOption('--concurrency', { min: 1 }))
    .option('--plugin <module>', 'ES module that registers cell runners (repeatable)', (v, p: string[] = []) => [...p, v])
    .option('--method <names>', 'only these methods (comma-separated, repeatable)', list)
    .option('--subject <names>', 'only these subjects', list)
    .option('--edit <ids>', 'only these edits', list)
    .option('--seed <seeds>', 'only these seeds', list)
    .option('--skip-failed', 'leave cells that failed before as they are')
    .option('--on-stale <what>', "a finished cell whose config changed: 'error', 'rerun' or 'keep'", 'error')
    .option('--out-dir <dir>', "override the config's outDir")
    .option('--dry-run', 'list the cells and their state; run nothing')
    .action(async (configFile: string, o: { concurrency?: number; plugin?: string[]; method?: string[]; subject?: string[]; edit?: string[]; seed?: string[]; skipFailed?: boolean; onStale: string; outDir?: string; dryRun?: boolean }) => {
      const { loadGridConfig } = await import('./config.js');
      const { runGrid, expandGrid, cellKey, cellDir, gridDir, readDone } = await import('./runner.js');
      const { listCellRunners } = await import('./registry.js');
      const { loadBuiltinRunners, loadPlugins } = await import('./runners.js');
      const { loadGridResults, writeGridResults } = await import('./results.js');
      if (!['error', 'rerun', 'keep'].includes(o.onStale)) throw new CliError(`--on-stale: '${o.onStale}' is not one of error, rerun, keep`, 2);
      if (o.concurrency !== undefined && !(o.concurrency >= 1)) throw new CliError('--concurrency: give a positive integer', 2);
      let cfg;
      try {
        cfg = loadGridConfig(configFile);
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      if (o.outDir) cfg = { ...cfg, outDir: o.outDir };
      await loadBuiltinRunners();
      await loadPlugins(o.plugin ?? []);
      const filter = (c: ReturnType<typeof expandGrid>[number]) =>
        (!o.method || o.method.includes(c.method.name)) &&
        (!o.subject || o.subject.includes(c.subject)) &&
        (!o.edit || o.edit.includes(c.edit.id)) &&
        (!o.seed || o.seed.includes(String(c.seed)));
      const root = gridDir(cfg);
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
      const progress = await makeProgress();
      try {
        const summary = await runGrid(cfg, {
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
          filter,
          retryFailed: !o.skipFailed,
          onStale: o.onStale as 'error' | 'rerun' | 'keep',
          signal: ac.signal,
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
      }
    });
}

/** A cli-progress bar on a terminal; one line per finished cell otherwise (logs, CI). */
async function makeProgress() {
  type Ev = import('./runner.js').GridEvent;
  if (!process.stderr.isTTY) {
    return {
      onEvent(e: Ev) {
        if (e.type === 'plan') process.stderr.write(`gae ablate: ${e.total} cells, ${e.finished} already done, ${e.pending} to run\n`);
        if (e.type === 'end') process.stderr.write(`${e.status.padEnd(7)} ${e.key}${e.wallSeconds !== undefined ? ` (${e.wallSeconds.toFixed(1)} s)` : ''}${e.error ? `: ${e.error}` : ''}\n`);
      },
      stop() {},
    };
  }
  const { MultiBar, Presets } = await import('cli-progress');
  const multi = new MultiBar({ stream: process.stderr, format: ' {bar} {value}/{total} cells | {eta_formatted} left | {cell}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
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
