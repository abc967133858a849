/**
 * Headless notebook runs (`gae notebooks run`): each notebook is executed by `jupyter-nbconvert --execute`
 * on the gae-tslab kernel, registered in a project-local Jupyter data dir (.jupyter/, put first on
 * JUPYTER_PATH so a user's own registration cannot interfere), with GAE_NOTEBOOK_PRESET set (tiny unless told
 * otherwise). A run fails on a cell error (reported with the cell and its error) and on any cell whose
 * declared outputs (./expect.ts) are missing. Executed copies go to results/notebooks/; `inplace` replaces
 * the notebook itself, and only when the run passed.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { cellLabel, checkExpectations, countExpectations, joinText, parseNotebook, type NotebookJson } from './expect.js';
import { installKernelSpec, KERNEL_NAME, repoRoot } from './kernelspec.js';
import { PRESET_ENV, type NotebookPreset } from './preset.js';

export const NO_NBCONVERT =
  'running notebooks needs jupyter-nbconvert: apt-get install -y jupyter-nbconvert (or bash scripts/setup.sh --full), ' +
  'or pip install nbconvert; GAE_NBCONVERT may name the command';

/** The nbconvert command: $GAE_NBCONVERT, else `jupyter-nbconvert` on PATH; undefined if there is none. */
export function findNbconvert(env: Record<string, string | undefined> = process.env): string | undefined {
  const candidates = env.GAE_NBCONVERT
    ? [env.GAE_NBCONVERT]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, 'jupyter-nbconvert'));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The project-local Jupyter data dir the runner registers the kernel in. */
export const localDataDir = (root = repoRoot()) => path.join(root, '.jupyter');

/**
 * Notebook files from names: none = every notebook in `dir`; a name is a path to an .ipynb file, a file name
 * in `dir` (with or without .ipynb), or an unambiguous prefix of one (`01`).
 */
export async function resolveNotebooks(names: string[], dir = path.join(repoRoot(), 'notebooks')): Promise<string[]> {
  const all = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.ipynb')).sort();
  if (names.length === 0) {
    if (all.length === 0) throw new Error(`${dir}: no notebooks (*.ipynb)`);
    return all.map((f) => path.join(dir, f));
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.endsWith('.ipynb') && (await fs.stat(n).catch(() => null))?.isFile()) {
      out.push(path.resolve(n));
      continue;
    }
    const exact = all.find((f) => f === n || f === `${n}.ipynb`);
    const byPrefix = all.filter((f) => f.startsWith(n));
    const hit = exact ?? (byPrefix.length === 1 ? byPrefix[0] : undefined);
    if (!hit) {
      const why = byPrefix.length > 1 ? `matches ${byPrefix.join(', ')}` : `no such notebook in ${dir} (have: ${all.join(', ') || 'none'})`;
      throw new Error(`notebook "${n}": ${why}`);
    }
    out.push(path.join(dir, hit));
  }
  return [...new Set(out)];
}

export interface RunOptions {
  /** Default GAE_NOTEBOOK_PRESET for the kernel: 'tiny'. */
  preset?: NotebookPreset;
  /** Where executed copies go. Default results/notebooks. */
  outDir?: string;
  /** Replace each notebook with its executed copy when (and only when) it passed. */
  inplace?: boolean;
  /** Seconds a single cell may run. Default 1800. */
  cellTimeoutS?: number;
  /** Stream nbconvert's and the kernel's output as it comes (otherwise it is shown only on failure). */
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface NotebookRun {
  file: string;
  /** The executed copy (for inplace runs, the notebook itself once replaced). */
  output: string | null;
  ok: boolean;
  seconds: number;
  /** One message per problem: a cell error (with the cell and the error), or a missing output. */
  failures: string[];
  /** nbconvert's and the kernel's output. */
  log: string;
}

const MAX_LOG = 200_000;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, verbose: boolean): Promise<{ code: number; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const take = (b: Buffer) => {
      if (verbose) process.stderr.write(b);
      log += b.toString('utf8');
      if (log.length > MAX_LOG) log = log.slice(log.length - MAX_LOG);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), log }));
  });
}

const ERROR_HEAD = 'An error occurred while executing the following cell:';
const RULE = '------------------';

/**
 * The failing cell and its error from nbconvert's output (nbclient's CellExecutionError message: the cell's
 * source between two rules, then the error), labelled with the cell's position when it can be found.
 */
export function describeCellError(log: string, nb: NotebookJson | null): string | null {
  const at = log.lastIndexOf(ERROR_HEAD);
  if (at < 0) return null;
  const block = log.slice(at + ERROR_HEAD.length).replace(/\s+$/, '');
  const parts = block.split(RULE);
  const source = (parts[1] ?? '').replace(/^\n/, '').replace(/\n$/, '');
  const error = parts.slice(2).join(RULE).trim();
  const i = nb?.cells.findIndex((c) => c.cell_type === 'code' && joinText(c.source).trim() === source.trim()) ?? -1;
  const label = i >= 0 ? cellLabel(nb!.cells[i]!, i) : 'a cell';
  const indent = (s: string) =>
    s
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
  return `${label} failed\n  source:\n${indent(source)}\n  error:\n${indent(error || '(no error text)')}`;
}

/** Executes one notebook and checks it. */
export async function runNotebook(file: string, opts: RunOptions = {}): Promise<NotebookRun> {
  const nbconvert = findNbconvert();
  if (!nbconvert) throw new Error(NO_NBCONVERT);
  const root = repoRoot();
  const t0 = performance.now();
  const input = parseNotebook(await fs.readFile(file, 'utf8'), file);
  countExpectations(input, file); // malformed expect metadata fails before a kernel starts
  await installKernelSpec(localDataDir(root));
  const name = path.basename(file, '.ipynb');
  const outDir = path.resolve(opts.inplace ? path.join(root, 'results', 'tmp', 'notebooks') : (opts.outDir ?? path.join(root, 'results', 'notebooks')));
  const outName = opts.inplace ? `${name}.${process.pid}` : name;
  const outFile = path.join(outDir, `${outName}.ipynb`);
  await fs.mkdir(outDir, { recursive: true });
  await fs.rm(outFile, { force: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: [localDataDir(root), process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    [PRESET_ENV]: opts.preset ?? 'tiny',
  };
  const args = [
    '--to',
    'notebook',
    '--execute',
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${opts.cellTimeoutS ?? 1800}`,
    '--ExecutePreprocessor.startup_timeout=180',
    // Outputs may trail the execute reply on a loaded machine; nbclient's 4 s default can drop them.
    '--ExecutePreprocessor.iopub_timeout=60',
    // No per-cell timestamps in the outputs: committed notebooks change only when their outputs do.
    '--ExecutePreprocessor.record_timing=False',
    '--output-dir',
    outDir,
    '--output',
    outName,
    file,
  ];
  const shown = path.relative(process.cwd(), file);
  opts.log?.(`running ${shown.startsWith('..') ? file : shown} (${PRESET_ENV}=${env[PRESET_ENV]})`);
  const { code, log } = await run(nbconvert, args, env, opts.verbose ?? false);
  const seconds = (performance.now() - t0) / 1000;
  const failures: string[] = [];
  let output: string | null = null;
  if (code !== 0) {
    const cellError = describeCellError(log, input);
    const tail = log.replace(/\s+$/, '').split('\n').slice(-30).join('\n');
    failures.push(cellError ?? `${nbconvert} exited with code ${code}:\n${tail}`);
  } else {
    const executed = parseNotebook(await fs.readFile(outFile, 'utf8'), outFile);
    for (const f of checkExpectations(executed, file)) failures.push(`${f.label}: ${f.message}`);
    if (opts.inplace) {
      if (failures.length === 0) {
        await writeFileAtomic(file, await fs.readFile(outFile));
        output = file;
      }
      await fs.rm(outFile, { force: true });
    } else output = outFile;
  }
  return { file, output, ok: failures.length === 0, seconds, failures, log };
}

/** Runs notebooks one after another (each in its own kernel). */
export async function runNotebooks(files: string[], opts: RunOptions = {}): Promise<NotebookRun[]> {
  const out: NotebookRun[] = [];
  for (const f of files) {
    const r = await runNotebook(f, opts);
    opts.log?.(
      r.ok ? `  ok in ${r.seconds.toFixed(1)} s → ${r.output}` : `  FAILED in ${r.seconds.toFixed(1)} s:\n${r.failures.map((m) => `  - ${m}`).join('\n')}`,
    );
    out.push(r);
  }
  return out;
}
