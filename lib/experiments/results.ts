/**
 * Results of a grid, read back from its run directories alone (done.json / failed.json / cell.json), in long
 * form (one row per cell × task × metric), aggregated over seeds with mean ± 95% CI (Student t), with
 * paired per-frame differences between methods (bootstrap 95% intervals) where cells saved per-frame scores,
 * and written as CSV and JSON. danfo DataFrames are built from the same rows for notebooks.
 */
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { decodeMetrics, readDone } from './runner.js';
import { clusterBootstrap, summarize, type BootstrapOptions } from './stats.js';

/** A cell's per-frame scores (task → frame id → metric → value), from `<cell>/per-frame.json`. */
export type PerFrame = Record<string, Record<string, Record<string, number | null>>>;

/** File a cell runner may write beside done.json with its per-frame scores, so arms can be paired by frame. */
export const PER_FRAME_FILE = 'per-frame.json';

/** `per-frame.json`: { tasks: { <task>: [{ frame: <id>, metrics: { <metric>: number | null } }] } }. */
export interface PerFrameFile {
  tasks: Record<string, { frame: string; metrics: Record<string, number | null> }[]>;
}

export interface CellRecord {
  grid: string;
  method: string;
  subject: string;
  edit: string;
  seed: number;
  status: 'done' | 'failed' | 'incomplete';
  metrics: Record<string, Record<string, number | null>>;
  wallSeconds: number | null;
  attempt: number | null;
  error: string | null;
  notes: string[];
  /** Per-frame scores when the runner saved them (PER_FRAME_FILE), else empty. */
  perFrame: PerFrame;
}

export interface LongRow {
  grid: string;
  method: string;
  subject: string;
  edit: string;
  seed: number;
  task: string;
  metric: string;
  value: number | null; // ±Infinity kept (an exact PSNR); null when not computed
}

export interface AggRow {
  method: string;
  task: string;
  metric: string;
  /** Seeds with a finite value (the CI's n). */
  n: number;
  mean: number | null;
  sd: number | null;
  ci95: number | null;
  /** Cells behind the numbers (subjects × edits × seeds with a finite value). */
  cells: number;
  /** Set when some cells had no number (null, or ±Infinity, which is left out of the mean). */
  note?: string;
  subject?: string;
  edit?: string;
}

/**
 * Cell directories below `dir`. Not entered: report/, hidden and `_` folders (the shared reconstruction and edit
 * cache), and a folder with its own grid.json: another grid nested in this one (a sweep kept beside its table).
 */
async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (/^seed-\d+$/.test(e.name)) yield p;
    else if (e.name !== 'report' && !e.name.startsWith('.') && !e.name.startsWith('_') && !existsSync(path.join(p, 'grid.json'))) yield* walk(p);
  }
}

/** Grids nested in a grid directory (folders with their own grid.json, e.g. <table>/sweeps/<name>), sorted. */
export async function nestedGrids(gridRoot: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > 3) return; // grids sit near the top; cells (4 levels deep) hold none
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name === 'report' || e.name.startsWith('.') || e.name.startsWith('_') || /^seed-\d+$/.test(e.name)) continue;
      const p = path.join(dir, e.name);
      if (existsSync(path.join(p, 'grid.json'))) out.push(p);
      else await visit(p, depth + 1);
    }
  };
  await visit(gridRoot, 0);
  return out.sort();
}

/** Every cell directory under a grid directory, with its status. */
export async function collectCells(gridRoot: string): Promise<CellRecord[]> {
  if (!existsSync(gridRoot)) throw new Error(`${gridRoot}: no such grid directory`);
  const out: CellRecord[] = [];
  for await (const dir of walk(gridRoot)) {
    const done = readDone(dir);
    let cellJson: { cell?: { grid: string; method: { name: string }; subject: string; edit: { id: string }; seed: number }; attempt?: number } | undefined;
    try {
      cellJson = JSON.parse(readFileSync(path.join(dir, 'cell.json'), 'utf8'));
    } catch {
      cellJson = undefined;
    }
    const cell = done?.cell ?? cellJson?.cell;
    if (!cell) continue; // a directory the runner never started
    const failed =
      !done && existsSync(path.join(dir, 'failed.json')) ? (JSON.parse(readFileSync(path.join(dir, 'failed.json'), 'utf8')) as { error: string }) : undefined;
    out.push({
      grid: cell.grid,
      method: cell.method.name,
      subject: cell.subject,
      edit: cell.edit.id,
      seed: cell.seed,
      status: done ? 'done' : failed ? 'failed' : 'incomplete',
      metrics: done ? decodeMetrics(done.metrics) : {},
      wallSeconds: done?.wallSeconds ?? null,
      attempt: done?.attempt ?? cellJson?.attempt ?? null,
      error: failed?.error ?? null,
      notes: done?.notes ?? [],
      perFrame: done ? readPerFrame(path.join(dir, PER_FRAME_FILE)) : {},
    });
  }
  const order = (r: CellRecord) => [r.method, r.subject, r.edit, String(r.seed).padStart(8, '0')].join('\u0000');
  return out.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

function readPerFrame(file: string): PerFrame {
  if (!existsSync(file)) return {};
  let j: PerFrameFile;
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as PerFrameFile;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!j || typeof j.tasks !== 'object' || j.tasks === null) throw new Error(`${file}: tasks: expected an object of task → frames`);
  const out: PerFrame = {};
  for (const [task, frames] of Object.entries(j.tasks)) {
    if (!Array.isArray(frames)) throw new Error(`${file}: tasks.${task}: expected an array of frames`);
    const m: Record<string, Record<string, number | null>> = (out[task] = {});
    frames.forEach((f, i) => {
      if (typeof f?.frame !== 'string' || typeof f.metrics !== 'object' || f.metrics === null)
        throw new Error(`${file}: tasks.${task}[${i}]: expected { frame: string, metrics: object }`);
      if (m[f.frame]) throw new Error(`${file}: tasks.${task}[${i}]: frame "${f.frame}" appears twice`);
      m[f.frame] = f.metrics;
    });
  }
  return out;
}

export function longRows(cells: CellRecord[]): LongRow[] {
  const rows: LongRow[] = [];
  for (const c of cells) {
    if (c.status !== 'done') continue;
    for (const [task, ms] of Object.entries(c.metrics)) {
      for (const [metric, value] of Object.entries(ms)) {
        rows.push({
          grid: c.grid,
          method: c.method,
          subject: c.subject,
          edit: c.edit,
          seed: c.seed,
          task,
          metric,
          value: value === null || Number.isNaN(value) ? null : value,
        });
      }
    }
  }
  return rows;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    let g = m.get(k);
    if (!g) m.set(k, (g = []));
    g.push(x);
  }
  return m;
}

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

function missingNote(rows: LongRow[]): string | undefined {
  const nulls = rows.filter((r) => r.value === null).length;
  const inf = rows.filter((r) => r.value !== null && !Number.isFinite(r.value)).length;
  const parts = [];
  if (nulls) parts.push(`${nulls} of ${rows.length} cells not computed`);
  if (inf) parts.push(`${inf} of ${rows.length} cells infinite (exact match), left out`);
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * The benchmark's numbers per (method, task, metric): each seed's value is the mean over the grid's subjects
 * and edits, then mean ± 95% CI over seeds. With one seed: n = 1, no CI.
 */
export function aggregateOverSeeds(rows: LongRow[]): AggRow[] {
  const out: AggRow[] = [];
  for (const g of groupBy(rows, (r) => [r.method, r.task, r.metric].join('\u0000')).values()) {
    const perSeed = [...groupBy(g, (r) => String(r.seed)).values()].map((s) => {
      const v = s.map((r) => r.value).filter(finite);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    });
    const s = summarize(perSeed);
    const note = missingNote(g);
    out.push({ method: g[0]!.method, task: g[0]!.task, metric: g[0]!.metric, ...s, cells: g.filter((r) => finite(r.value)).length, ...(note ? { note } : {}) });
  }
  return out;
}

/** Mean ± 95% CI over seeds for every (method, subject, edit, task, metric). */
export function aggregatePerCellGroup(rows: LongRow[]): AggRow[] {
  const out: AggRow[] = [];
  for (const g of groupBy(rows, (r) => [r.method, r.subject, r.edit, r.task, r.metric].join('\u0000')).values()) {
    const s = summarize(g.map((r) => r.value));
    const note = missingNote(g);
    out.push({
      method: g[0]!.method,
      subject: g[0]!.subject,
      edit: g[0]!.edit,
      task: g[0]!.task,
      metric: g[0]!.metric,
      ...s,
      cells: g.filter((r) => finite(r.value)).length,
      ...(note ? { note } : {}),
    });
  }
  return out;
}

/** A danfo DataFrame of plain rows (missing numbers as null). danfo is imported on first use: it is slow to load. */
export async function toDataFrame(rows: object[]): Promise<import('danfojs-node').DataFrame> {
  const dfd = await import('danfojs-node');
  (await import('../gpu/tfjs-quiet.js')).quietTfjs();
  const clean = rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && Number.isNaN(v) ? null : v === undefined ? null : v])),
  );
  return new dfd.DataFrame(clean);
}

/** RFC 4180 CSV with a fixed column order; null/undefined as empty, numbers at full precision. */
export function toCsv(rows: object[], columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const esc = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = Array.isArray(v) ? v.join('; ') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => esc((r as Record<string, unknown>)[c])).join(','))].join('\n') + '\n';
}

/** Arm `a` minus arm `b` on one task and metric: the mean paired per-frame difference and its bootstrap interval. */
export interface PairedRow {
  a: string;
  b: string;
  task: string;
  metric: string;
  /** Paired frames (same subject, edit, seed and frame id, finite in both arms) and the runs (subject × edit × seed) they fall in, the bootstrap's clusters. */
  n: number;
  clusters: number;
  mean: number | null;
  /** Two-stage (run, then frame) percentile bootstrap 95% interval of the mean difference. */
  lo: number | null;
  hi: number | null;
}

/**
 * Paired per-frame differences between every two methods: frames are matched by (subject, edit, seed, task,
 * frame id), so both arms are scored on the same frames of the same seed; the differences are grouped by
 * (subject, edit, seed) for the bootstrap (lib/experiments/stats.ts clusterBootstrap). Methods without
 * per-frame scores give no rows.
 */
export function pairedComparisons(cells: CellRecord[], opts: BootstrapOptions = {}): PairedRow[] {
  const done = cells.filter((c) => c.status === 'done' && Object.keys(c.perFrame).length > 0);
  const methods = [...new Set(done.map((c) => c.method))];
  const unit = (c: CellRecord) => [c.subject, c.edit, c.seed].join('\u0000');
  const byMethod = new Map(methods.map((m) => [m, new Map(done.filter((c) => c.method === m).map((c) => [unit(c), c]))]));
  const out: PairedRow[] = [];
  for (let i = 0; i < methods.length; i++) {
    for (let j = i + 1; j < methods.length; j++) {
      const A = byMethod.get(methods[i]!)!,
        B = byMethod.get(methods[j]!)!;
      // task → metric → cluster → differences
      const diffs = new Map<string, Map<string, Map<string, number[]>>>();
      for (const [u, ca] of A) {
        const cb = B.get(u);
        if (!cb) continue;
        for (const [task, framesA] of Object.entries(ca.perFrame)) {
          const framesB = cb.perFrame[task];
          if (!framesB) continue;
          let t = diffs.get(task);
          if (!t) diffs.set(task, (t = new Map()));
          for (const [id, ma] of Object.entries(framesA)) {
            const mb = framesB[id];
            if (!mb) continue;
            for (const [metric, va] of Object.entries(ma)) {
              const vb = mb[metric];
              if (!finite(va) || vb === undefined || !finite(vb)) continue;
              let m = t.get(metric);
              if (!m) t.set(metric, (m = new Map()));
              let d = m.get(u);
              if (!d) m.set(u, (d = []));
              d.push(va - vb);
            }
          }
        }
      }
      for (const [task, t] of diffs) {
        for (const [metric, m] of t) {
          const iv = clusterBootstrap([...m.values()], opts);
          out.push({ a: methods[i]!, b: methods[j]!, task, metric, n: iv.n, clusters: iv.clusters, mean: iv.mean, lo: iv.lo, hi: iv.hi });
        }
      }
    }
  }
  return out;
}

export interface GridResults {
  cells: CellRecord[];
  rows: LongRow[];
  table: AggRow[];
  perGroup: AggRow[];
  /** Paired per-frame differences between methods (empty when no cell saved per-frame scores). */
  paired: PairedRow[];
}

export async function loadGridResults(gridRoot: string): Promise<GridResults> {
  const cells = await collectCells(gridRoot);
  const rows = longRows(cells);
  return { cells, rows, table: aggregateOverSeeds(rows), perGroup: aggregatePerCellGroup(rows), paired: pairedComparisons(cells) };
}

/** Writes cells.csv, metrics.csv (long), summary.csv (per method/task/metric) and results.json into outDir. */
export async function writeGridResults(res: GridResults, outDir: string): Promise<string[]> {
  const files: [string, string][] = [
    [
      'cells.csv',
      toCsv(
        res.cells.map((c) => ({ ...c, metrics: undefined, perFrame: undefined, notes: c.notes })),
        ['grid', 'method', 'subject', 'edit', 'seed', 'status', 'attempt', 'wallSeconds', 'error', 'notes'],
      ),
    ],
    ['metrics.csv', toCsv(res.rows, ['grid', 'method', 'subject', 'edit', 'seed', 'task', 'metric', 'value'])],
    ['summary.csv', toCsv(res.table, ['method', 'task', 'metric', 'n', 'mean', 'sd', 'ci95', 'cells', 'note'])],
    ['paired.csv', toCsv(res.paired, ['a', 'b', 'task', 'metric', 'n', 'clusters', 'mean', 'lo', 'hi'])],
    ['summary-per-subject-edit.csv', toCsv(res.perGroup, ['method', 'subject', 'edit', 'task', 'metric', 'n', 'mean', 'sd', 'ci95', 'cells', 'note'])],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    await writeFileAtomic(path.join(outDir, name), text);
    written.push(path.join(outDir, name));
  }
  // Per-frame scores stay in the cells' own files; results.json carries the aggregates.
  const json = JSON.stringify(
    { ...res, cells: res.cells.map((c) => ({ ...c, perFrame: undefined })) },
    (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
    2,
  );
  await writeFileAtomic(path.join(outDir, 'results.json'), json + '\n');
  written.push(path.join(outDir, 'results.json'));
  return written;
}
