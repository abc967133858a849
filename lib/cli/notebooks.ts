/**
 * Notebook tooling.
 *   gae notebooks kernel [--prefix DIR | --data-dir DIR]   register the gae-tslab Jupyter kernel
 *   gae notebooks run [names… --preset full --inplace]     execute notebooks headlessly and check them
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { installKernelSpec, KERNEL_DISPLAY_NAME, KERNEL_NAME, prefixDataDir, userDataDir } from '../notebook/kernelspec.js';
import { NOTEBOOK_PRESETS, type NotebookPreset } from '../notebook/preset.js';
import { findNbconvert, NO_NBCONVERT, resolveNotebooks, runNotebooks } from '../notebook/run.js';

const program = new Command().name('notebooks').description('tslab notebooks of the workbench');

program
  .command('kernel')
  .description(`register the ${KERNEL_NAME} kernel ("${KERNEL_DISPLAY_NAME}") with Jupyter (default: your user data dir)`)
  .option('--prefix <dir>', 'install into <dir>/share/jupyter/kernels/ (a venv or conda prefix, /usr/local)')
  .option('--data-dir <dir>', 'install into <dir>/kernels/ (a Jupyter data dir, e.g. one on $JUPYTER_PATH)')
  .option('--preset <preset>', `pin GAE_NOTEBOOK_PRESET for this kernel (${NOTEBOOK_PRESETS.join(' | ')}; default: the environment's, else full)`)
  .action(async (o: { prefix?: string; dataDir?: string; preset?: string }) => {
    if (o.prefix && o.dataDir) throw new Error('--prefix and --data-dir: give one');
    if (o.preset !== undefined && !(NOTEBOOK_PRESETS as readonly string[]).includes(o.preset))
      throw new Error(`--preset: expected ${NOTEBOOK_PRESETS.join(' or ')}, got "${o.preset}"`);
    const dataDir = o.dataDir ? path.resolve(o.dataDir) : o.prefix ? prefixDataDir(o.prefix) : userDataDir();
    const r = await installKernelSpec(dataDir, { preset: o.preset as NotebookPreset | undefined });
    console.log(
      `${r.changed ? 'registered' : 'already registered'}: ${KERNEL_NAME} ("${KERNEL_DISPLAY_NAME}") in ${r.dir}${o.preset ? ` with GAE_NOTEBOOK_PRESET=${o.preset}` : ''}`,
    );
    console.log('open notebooks/ in JupyterLab or VS Code and pick that kernel (README: Notebooks)');
  });

program
  .command('run')
  .description('execute notebooks with jupyter-nbconvert on the gae-tslab kernel and check their declared outputs')
  .argument('[names...]', 'notebooks: paths, names in notebooks/, or unambiguous prefixes (default: all)')
  .option('--preset <preset>', `GAE_NOTEBOOK_PRESET for the kernel (${NOTEBOOK_PRESETS.join(' | ')})`, 'tiny')
  .option('--inplace', 'replace each notebook with its executed copy when it passed (refreshes committed outputs)', false)
  .option('--out <dir>', 'folder for executed copies', 'results/notebooks')
  .option('--timeout <s>', 'seconds a cell may run', '1800')
  .option('--verbose', "stream nbconvert's and the kernel's output", false)
  .action(async (names: string[], o: { preset: string; inplace: boolean; out: string; timeout: string; verbose: boolean }) => {
    if (!(NOTEBOOK_PRESETS as readonly string[]).includes(o.preset)) throw new Error(`--preset: expected ${NOTEBOOK_PRESETS.join(' or ')}, got "${o.preset}"`);
    const timeout = Number(o.timeout);
    if (!(timeout > 0)) throw new Error(`--timeout: expected seconds > 0, got "${o.timeout}"`);
    if (!findNbconvert()) throw new Error(NO_NBCONVERT);
    const files = await resolveNotebooks(names);
    const runs = await runNotebooks(files, {
      preset: o.preset as NotebookPreset,
      inplace: o.inplace,
      outDir: o.out,
      cellTimeoutS: timeout,
      verbose: o.verbose,
      log: (l) => console.log(l),
    });
    const failed = runs.filter((r) => !r.ok);
    console.log(
      `${runs.length - failed.length}/${runs.length} notebooks passed${failed.length ? `; failed: ${failed.map((r) => path.basename(r.file)).join(', ')}` : ''}`,
    );
    process.exitCode = failed.length ? 1 : 0;
  });

program.parseAsync().catch((e: Error) => {
  console.error(`notebooks: ${e.message}`);
  process.exit(1);
});
