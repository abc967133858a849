/**
 * A grid's report, regenerated from its run directories alone: results CSV/JSON, the tables (per task: PSNR
 * against the ground-truth edit per region, leakage, preservation, flicker, edit strength, CLIP; paired
 * differences between arms with bootstrap intervals; per edit), Plotly figure specs (JSON) and, where Chromium is
 * installed, their PNG/SVG exports, the methods side by side, the sweeps of grids nested in it (sweeps/<name>),
 * and an index.md. `buildReport` makes the content (what the notebooks show); `generateReport` writes it. The
 * output holds no clock readings and no paths outside the grid: the same run directories give the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import type { GridConfig } from '../experiments/config.js';
import { methodDef } from '../experiments/config.js';
import { loadGridResults, nestedGrids, pairedComparisons, toCsv, writeGridResults, type CellRecord, type GridResults } from '../experiments/results.js';
import { metricNames, REPORT_REGIONS } from '../metrics/names.js';
import { FigureExporter, findChromium, NO_CHROMIUM, type FigureFormat } from './export.js';
import { betaPointsFromResults, betaSweep, contrastBars, metricBars, readMetricsJsonl, runCurves, trainingCurves, type Figure } from './figures.js';
import { TASK_LABELS } from './paper.js';
import { comparisonSeed, methodComparison } from './compare.js';
import { writeGridPng, type GridSpec } from '../image/grid.js';
import {
  buildTable,
  clipSpec,
  consistencySpec,
  contrast,
  contrastMarkdown,
  CONTRAST_METRICS,
  CONTRASTS,
  gtEditSpec,
  mouthOpenSpec,
  summarySpec,
  toLatex,
  toMarkdown,
  type Table,
} from './table.js';

export interface ReportOptions {
  /** Default <gridRoot>/report, which is cleared first; a given folder is written into, not cleared. */
  outDir?: string;
  /** Figure files to export; [] writes the specs only. Default png, svg (a PDF embeds its creation date). */
  formats?: FigureFormat[];
  onProgress?: (message: string) => void;
}

/** A sweep: a grid (the root or one nested in it) whose arms differ in one numeric parameter. */
export interface SweepReport {
  /** The grid's name, and its folder relative to the report's grid ('.' for the grid itself). */
  name: string;
  dir: string;
  param: string;
  /** Arm → parameter value, in the grid's arm order. */
  values: Record<string, number>;
  /** The sweep's per-task tables (the summary columns), Markdown. */
  markdown: string;
}

export interface ComparisonFigure {
  name: string;
  spec: GridSpec;
  missing: string[];
}

/** Everything a report shows, built from run directories; nothing written. */
export interface ReportContent {
  name: string;
  description: string | null;
  results: GridResults;
  methods: string[];
  tasks: string[];
  /** Per task: the summary table, then PSNR/SSIM per region; then mouth-open, CLIP (with the paper's) and consistency. */
  tables: Table[];
  /** The summary table per (subject, edit) and task: an arm that ran on some edits only is compared here. */
  perEdit: Table[];
  /** Per task: the paired differences of the contrasts (ours − ours-no-wabe, …), Markdown ('' when none). */
  contrasts: Record<string, string>;
  /** Per (subject, edit), then task: the same contrasts on that edit's frames alone (its failure mode), Markdown. */
  contrastsPerEdit: Record<string, Record<string, string>>;
  /** Wall time per arm (mean, range) and the editing part of it, Markdown. */
  wallTime: string;
  figures: Record<string, Figure>;
  comparisons: ComparisonFigure[];
  sweeps: SweepReport[];
  notes: string[];
}

export interface Report {
  outDir: string;
  results: GridResults;
  tables: Table[];
  figures: Record<string, Figure>;
  files: string[];
  notes: string[];
  content: ReportContent;
}

function readGridConfig(gridRoot: string): GridConfig | undefined {
  const f = path.join(gridRoot, 'grid.json');
  if (!existsSync(f)) return undefined;
  let j: { config?: GridConfig };
  try {
    j = JSON.parse(readFileSync(f, 'utf8')) as { config?: GridConfig };
  } catch (e) {
    throw new Error(`${f}: ${(e as Error).message}`, { cause: e });
  }
  if (!j.config || !Array.isArray(j.config.methods)) throw new Error(`${f}: config.methods: expected the grid's config with its methods`);
  return j.config;
}

const TASK_ORDER = ['novel-view', 'self-reenactment', 'cross-identity'];
const byTaskOrder = (a: string, b: string) => (TASK_ORDER.indexOf(a) + 1 || 99) - (TASK_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b);
const slug = (m: string) => m.replace(/[^A-Za-z0-9.-]+/g, '-');
/** Parameters a sweep is named after when they vary; otherwise the one numeric parameter that does. */
const SWEEP_PARAMS = ['wabeBeta', 'lambdaAdv'];
const PARAM_LABELS: Record<string, string> = { wabeBeta: 'WABE β', lambdaAdv: 'λ_adv' };
/** Most points of one curve in a figure spec: longer logs are thinned by a fixed stride (the same every run). */
const MAX_CURVE_POINTS = 1000;

/** Loss terms of an editing log worth plotting (not counters, clocks or the per-group norms, plotted apart). */
function lossKeys(records: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  const skip = ['step', 'iter', 'time', 'wall', 'epoch', 'timestamp', 'edits', 'itersPerSecond'];
  for (const r of records) for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !skip.includes(k) && !/^(grad|update)\./.test(k)) keys.add(k);
  return [...keys].sort();
}

function thin<T>(rows: T[]): T[] {
  if (rows.length <= MAX_CURVE_POINTS) return rows;
  const k = Math.ceil(rows.length / MAX_CURVE_POINTS);
  return rows.filter((_, i) => i % k === 0 || i === rows.length - 1);
}

/** The methods of a grid in its config's order (those with cells), else as found. */
function methodOrder(cfg: GridConfig | undefined, cells: CellRecord[]): string[] {
  const found = [...new Set(cells.map((c) => c.method))];
  if (!cfg) return found;
  const listed = cfg.methods.map((m) => methodDef(m).name);
  return [...listed.filter((m) => found.includes(m)), ...found.filter((m) => !listed.includes(m))];
}

/** The parameter a grid sweeps, with each arm's value, or null when its arms do not differ in one number. */
export function sweepOf(cfg: GridConfig): { param: string; values: Record<string, number> } | null {
  const arms = cfg.methods.map(methodDef).map((m) => ({ name: m.name, params: { ...cfg.params, ...m.params } as Record<string, unknown> }));
  if (arms.length < 2) return null;
  const varying = (k: string) => new Set(arms.map((a) => JSON.stringify(a.params[k]))).size > 1;
  const numeric = (k: string) => arms.every((a) => typeof a.params[k] === 'number');
  const keys = [...new Set(arms.flatMap((a) => Object.keys(a.params)))].sort();
  const named = SWEEP_PARAMS.find((k) => numeric(k) && varying(k));
  const others = keys.filter(varying);
  const param = named ?? (others.length === 1 && numeric(others[0]!) ? others[0]! : null);
  if (!param) return null;
  return { param, values: Object.fromEntries(arms.map((a) => [a.name, a.params[param] as number])) };
}

/** The editing log of a cell: the runner logs into the cell directory or into its edit run (edit/). */
function cellFile(gridRoot: string, c: Pick<CellRecord, 'method' | 'subject' | 'edit' | 'seed'>, name: string): string | undefined {
  return [name, path.join('edit', name)].map((f) => path.join(gridRoot, c.method, c.subject, c.edit, `seed-${c.seed}`, f)).find((f) => existsSync(f));
}

function wallTimeMarkdown(results: GridResults, methods: string[]): string {
  const lines = [
    '**Wall time per cell (s): the whole cell, its edit loop (editSeconds), and the rest (evaluation, loading, bookkeeping: wall − edit loop)**',
    '',
    '| Method | cells | wall, mean | wall, min–max | edit loop, mean | rest, mean |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const f = (v: number) => v.toFixed(1);
  for (const m of methods) {
    const cells = results.cells.filter((c) => c.method === m && c.status === 'done');
    const walls = cells.map((c) => c.wallSeconds).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    // editSeconds is the same in every task of a cell: take the first task that has it.
    const editOf = (c: CellRecord) =>
      Object.values(c.metrics)
        .map((t) => t[metricNames.editSeconds])
        .find((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const edits = cells.map(editOf).filter((v): v is number => v !== undefined);
    const rest = cells
      .map((c) => (typeof c.wallSeconds === 'number' && editOf(c) !== undefined ? c.wallSeconds - editOf(c)! : undefined))
      .filter((v): v is number => v !== undefined);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    lines.push(
      `| ${m} | ${cells.length} | ${walls.length ? f(mean(walls)) : '—'} | ${walls.length ? `${f(Math.min(...walls))}–${f(Math.max(...walls))}` : '—'} | ${edits.length ? f(mean(edits)) : 'not computed'} | ${rest.length ? f(mean(rest)) : 'not computed'} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Metrics of the bar figures (mean ± 95% CI over seeds per arm and task). */
const BAR_METRICS: [string, string][] = [
  [metricNames.psnr('image'), 'PSNR image vs GT edit (dB)'],
  ...REPORT_REGIONS.map((r): [string, string] => [metricNames.psnr(r), `PSNR ${r} vs GT edit (dB)`]),
  [metricNames.psnrOpen('mouthInterior'), 'PSNR mouth interior, mouth-open frames (dB)'],
  ...REPORT_REGIONS.map((r): [string, string] => [metricNames.ssim(r), `SSIM ${r} vs GT edit`]),
  [metricNames.leakage(), 'Leakage onto neighbouring regions (lower is better)'],
  [metricNames.preservation, 'Preservation of unedited regions (dB)'],
  [metricNames.editStrength, 'Edit strength (1 = the full GT edit)'],
  [metricNames.flicker('head'), 'Temporal flicker (head)'],
  [metricNames.viewConsistency, 'Multi-view inconsistency'],
  [metricNames.clipS, 'CLIP-S (directional similarity)'],
  [metricNames.clipC, 'CLIP-C (direction consistency)'],
];
/** Metrics of the sweep figures. */
const SWEEP_METRICS: [string, string][] = [
  [metricNames.psnrOpen('mouthInterior'), 'PSNR mouth interior, mouth-open frames (dB)'],
  [metricNames.psnr('mouthInterior'), 'PSNR mouth interior vs GT edit (dB)'],
  [metricNames.psnr('head'), 'PSNR head vs GT edit (dB)'],
  [metricNames.leakage(), 'Leakage'],
  [metricNames.preservation, 'Preservation (dB)'],
  [metricNames.editStrength, 'Edit strength'],
  [metricNames.clipS, 'CLIP-S'],
];

/** Sweep figures and tables of one grid (the report's own or a nested one) when its arms sweep a parameter. */
async function sweepReport(gridRoot: string, dir: string, figures: Record<string, Figure>, notes: string[]): Promise<SweepReport | null> {
  const root = dir === '.' ? gridRoot : path.join(gridRoot, dir);
  const cfg = readGridConfig(root);
  const sw = cfg ? sweepOf(cfg) : null;
  if (!cfg || !sw) {
    if (dir !== '.') notes.push(`${dir}: a nested grid whose arms do not differ in one numeric parameter: no sweep figure`);
    return null;
  }
  const res = dir === '.' ? null : await loadGridResults(root);
  const results = res ?? (await loadGridResults(gridRoot));
  if (results.cells.length === 0) {
    notes.push(`${dir}: no finished cells: no sweep figure`);
    return null;
  }
  const label = PARAM_LABELS[sw.param] ?? sw.param;
  const params = Object.fromEntries(Object.entries(sw.values).map(([m, v]) => [m, { [sw.param]: v }]));
  const prefix = `sweep-${slug(cfg.name)}`;
  for (const [m, yLabel] of SWEEP_METRICS) {
    const pts = betaPointsFromResults(results.table, params, { metric: m, param: sw.param });
    if (!pts.some((p) => p.mean !== null)) continue;
    const positive = Object.values(sw.values).every((v) => v > 0);
    const spread = Math.max(...Object.values(sw.values)) / Math.min(...Object.values(sw.values));
    figures[`${prefix}-${slug(m)}`] = betaSweep(pts, {
      metric: m,
      yLabel,
      xLabel: label,
      logX: positive && spread >= 50,
      title: `${cfg.name}: ${yLabel} against ${label}`,
    });
  }
  const methods = methodOrder(cfg, results.cells);
  const runs = methods
    .map((m) => ({ m, c: results.cells.find((c) => c.method === m && c.status === 'done' && cellFile(root, c, 'adversary.jsonl')) }))
    .filter((x) => x.c);
  if (runs.length) {
    const recs = runs.map(({ m, c }) => ({ name: `${label} ${sw.values[m]}`, records: thin(readMetricsJsonl(cellFile(root, c!, 'adversary.jsonl')!)) }));
    try {
      figures[`${prefix}-discriminator`] = runCurves(recs, {
        keys: ['dReal', 'dFake'],
        title: `${cfg.name}: D(real) and D(fake) per step`,
        yLabel: 'mean D score',
      });
    } catch {
      // no arm of the sweep has an adversary (the β sweep without it)
    }
  }
  const tasks = [...new Set(results.rows.map((r) => r.task))].sort(byTaskOrder);
  const md = tasks.map((t) =>
    toMarkdown(
      buildTable(
        results.table,
        {
          ...summarySpec(t, methods),
          id: `${prefix}-${t}`,
          title: `${cfg.name} (${label}: ${methods.map((m) => `${m} = ${sw.values[m]}`).join(', ')}), ${TASK_LABELS[t] ?? t}`,
        },
        results.paired,
      ),
    ),
  );
  return { name: cfg.name, dir, param: sw.param, values: sw.values, markdown: md.join('\n') };
}

/** `downsample` and `rows` shrink the side-by-side grids (notebook displays); the report writes them whole. */
export async function buildReport(
  gridRoot: string,
  opts: { downsample?: number; rows?: number; onProgress?: (m: string) => void } = {},
): Promise<ReportContent> {
  const say = opts.onProgress ?? (() => {});
  const results = await loadGridResults(gridRoot);
  if (results.cells.length === 0) throw new Error(`${gridRoot}: no cell directories with results (run \`gae ablate\` first)`);
  const cfg = readGridConfig(gridRoot);
  const notes: string[] = [];
  if (!cfg) notes.push('grid.json is missing: method order and parameters were inferred from the run directories.');
  const methods = methodOrder(cfg, results.cells);
  const tasks = [...new Set(results.rows.map((r) => r.task))].sort(byTaskOrder);
  const metrics = new Set(results.rows.map((r) => r.metric));
  const has = (m: string) => metrics.has(m);

  // Which (subject, edit) each arm finished: an arm on fewer of them is averaged over fewer edits.
  const groups = [...new Set(results.cells.filter((c) => c.status === 'done').map((c) => `${c.subject}/${c.edit}`))].sort();
  for (const m of methods) {
    const mine = new Set(results.cells.filter((c) => c.method === m && c.status === 'done').map((c) => `${c.subject}/${c.edit}`));
    if (mine.size && mine.size < groups.length)
      notes.push(
        `${m} ran on ${[...mine].sort().join(', ')} only (of ${groups.join(', ')}): its per-task means are over those; compare it in the per-edit tables.`,
      );
  }

  const tables: Table[] = [];
  for (const task of tasks) {
    tables.push(buildTable(results.table, summarySpec(task, methods), results.paired));
    const regions = REPORT_REGIONS.filter((r) => has(metricNames.psnr(r)) || has(metricNames.ssim(r)));
    const spec = gtEditSpec(task, regions, methods);
    spec.columns = spec.columns.filter((c) => has(c.metric));
    if (spec.columns.length) tables.push(buildTable(results.table, spec, results.paired));
  }
  if (has(metricNames.psnrOpen('mouthInterior'))) tables.push(buildTable(results.table, mouthOpenSpec(tasks, methods), results.paired));
  tables.push(buildTable(results.table, clipSpec(tasks.length ? tasks : TASK_ORDER, methods), results.paired));
  if (has(metricNames.flicker('head')) || has(metricNames.viewConsistency))
    tables.push(buildTable(results.table, consistencySpec(tasks, methods), results.paired));

  // Per (subject, edit): the same summary, seeds aggregated within the edit (no paired marks: those pool edits).
  const perEdit: Table[] = [];
  const subjects = new Set(results.cells.map((c) => c.subject));
  for (const g of groups) {
    const [subject, edit] = g.split('/') as [string, string];
    const rows = results.perGroup.filter((r) => r.subject === subject && r.edit === edit).map(({ subject: _s, edit: _e, ...r }) => r);
    const ms = methods.filter((m) => rows.some((r) => r.method === m));
    for (const task of tasks) {
      const spec = summarySpec(task, ms);
      const where = subjects.size > 1 ? `${subject}, ${edit}` : edit;
      perEdit.push(buildTable(rows, { ...spec, id: `summary-${slug(subject)}-${slug(edit)}-${task}`, title: `${where} — ${spec.title}` }));
    }
  }

  const contrasts: Record<string, string> = {};
  for (const task of tasks) contrasts[task] = contrastMarkdown(results.paired, task);
  if (!results.paired.length) notes.push('No cell saved per-frame scores (per-frame.json): no paired differences.');
  else if (tasks.every((t) => !contrasts[t])) notes.push(`No contrast of ${CONTRASTS.map(([a, b]) => `${a} − ${b}`).join(', ')} has both arms in this grid.`);

  // The contrasts per edit: each edit exercises one failure mode (a hidden target, a recoloured occluder, a local
  // edit), and a pooled difference can hide one that goes the other way. Only the contrasts' arms are paired.
  const contrastsPerEdit: Record<string, Record<string, string>> = {};
  const contrastArms = new Set(CONTRASTS.flat());
  for (const g of groups) {
    const [subject, edit] = g.split('/') as [string, string];
    const mine = results.cells.filter((c) => c.subject === subject && c.edit === edit && contrastArms.has(c.method));
    const paired = pairedComparisons(mine);
    const where = subjects.size > 1 ? `${subject}, ${edit}` : edit;
    contrastsPerEdit[g] = Object.fromEntries(tasks.map((t) => [t, contrastMarkdown(paired, t, CONTRASTS, CONTRAST_METRICS, where)]));
  }

  // Figures: bars with 95% CIs over seeds; paired differences with bootstrap intervals; sweeps; training curves.
  const figures: Record<string, Figure> = {};
  for (const [m, title] of BAR_METRICS) {
    if (!results.table.some((r) => r.metric === m && r.mean !== null)) continue;
    figures[`bars-${slug(m)}`] = metricBars(results.table, { metric: m, title, methods, tasks, paper: m === metricNames.clipS || m === metricNames.clipC });
  }
  for (const { metric, label } of CONTRAST_METRICS) {
    const oriented = CONTRASTS.flatMap(([a, b]) => tasks.map((t) => contrast(results.paired, a, b, t, metric))).filter(
      (r): r is NonNullable<typeof r> => r !== null && r.mean !== null,
    );
    if (!oriented.length) continue;
    figures[`paired-${slug(metric)}`] = contrastBars(oriented, {
      metric,
      contrasts: CONTRASTS.filter(([a, b]) => oriented.some((r) => r.a === a && r.b === b)),
      tasks,
      title: `Paired differences a − b: ${label} (bootstrap 95% intervals over runs, then frames)`,
      yLabel: `Δ ${label}`,
    });
  }
  const sweeps: SweepReport[] = [];
  for (const dir of ['.', ...(await nestedGrids(gridRoot)).map((d) => path.relative(gridRoot, d))]) {
    const s = await sweepReport(gridRoot, dir, figures, notes);
    if (s) sweeps.push(s);
  }
  // Per arm, its first finished cell (by subject, edit, seed) that logged: the loss terms, then D(real)/D(fake)
  // and the generator term, then the mouth-interior update norms of every arm on one set of axes.
  const logged = methods.map((m) => ({ m, c: results.cells.find((c) => c.method === m && c.status === 'done' && cellFile(gridRoot, c, 'metrics.jsonl')) }));
  const normRuns: { name: string; records: Record<string, unknown>[] }[] = [];
  const normKeys = new Set<string>();
  for (const { m, c } of logged) {
    if (!c) continue;
    const recs = readMetricsJsonl(cellFile(gridRoot, c, 'metrics.jsonl')!);
    const keys = lossKeys(recs).filter((k) => !['dLoss', 'dReal', 'dFake'].includes(k));
    const where = `${c.subject}, ${c.edit}, seed ${c.seed}`;
    if (keys.length && recs.some((r) => typeof r.step === 'number')) {
      try {
        figures[`training-${slug(m)}`] = trainingCurves(thin(recs), { keys, title: `Training: ${m} (${where})` });
      } catch {
        // logged only nulls for these keys
      }
    }
    const mouth = [...new Set(recs.flatMap((r) => Object.keys(r).filter((k) => /^update\.mouth\./.test(k) && typeof r[k] === 'number')))].sort();
    if (mouth.length) {
      normRuns.push({ name: m, records: thin(recs) });
      mouth.forEach((k) => normKeys.add(k));
    }
  }
  for (const { m, c } of logged) {
    const cell = results.cells.find((x) => x.method === m && x.status === 'done' && cellFile(gridRoot, x, 'adversary.jsonl')) ?? c;
    const file = cell ? cellFile(gridRoot, cell, 'adversary.jsonl') : undefined;
    if (!cell || !file) continue;
    const recs = readMetricsJsonl(file);
    if (!recs.some((r) => typeof r.dReal === 'number')) continue;
    figures[`adversary-${slug(m)}`] = trainingCurves(thin(recs), {
      keys: ['dReal', 'dFake', 'generator'],
      title: `Adversary: ${m} (${cell.subject}, ${cell.edit}, seed ${cell.seed}): D(real), D(fake), generator term`,
      yLabel: 'value',
    });
  }
  if (normRuns.length)
    figures['mouth-update-norms'] = runCurves(normRuns, {
      keys: [...normKeys].sort(),
      title: 'Mouth-interior Gaussians: RMS Adam update per parameter group',
      yLabel: 'RMS update',
      logY: true,
    });
  say(`figures: ${Object.keys(figures).length}`);

  // Methods side by side with mouth close-ups for every (subject, edit), at the seed where most of its arms saved
  // their evaluation frames (the lowest on a tie); columns: the arms that ran on that edit.
  const comparisons: ComparisonFigure[] = [];
  for (const g of groups) {
    const [subject, edit] = g.split('/') as [string, string];
    const done = results.cells.filter((c) => c.status === 'done' && c.subject === subject && c.edit === edit);
    const ms = methods.filter((m) => done.some((c) => c.method === m));
    const seed = comparisonSeed(gridRoot, { subject, edit, methods: ms, seeds: [...new Set(done.map((c) => c.seed))] });
    for (const split of ['test', 'cross', 'val']) {
      let cmp;
      try {
        cmp = await methodComparison(gridRoot, {
          subject,
          edit,
          seed,
          methods: ms,
          split,
          ...(opts.downsample ? { downsample: opts.downsample } : {}),
          ...(opts.rows ? { rows: opts.rows } : {}),
        });
      } catch {
        continue; // no arm of this edit saved frames
      }
      if (cmp.spec.rows.length === 0) continue;
      const name = `compare-${slug(subject)}-${slug(edit)}-${split}`;
      comparisons.push({ name, spec: cmp.spec, missing: cmp.missing });
      if (cmp.missing.length) notes.push(`${name}.png (seed ${seed}): grey tiles: ${cmp.missing.join('; ')}`);
    }
  }
  if (comparisons.length) say(`comparison grids: ${comparisons.length}`);
  return {
    name: cfg?.name ?? path.basename(path.resolve(gridRoot)),
    description: cfg?.description ?? null,
    results,
    methods,
    tasks,
    tables,
    perEdit,
    contrasts,
    contrastsPerEdit,
    wallTime: wallTimeMarkdown(results, methods),
    figures,
    comparisons,
    sweeps,
    notes,
  };
}

async function writeTable(t: Table, outDir: string, files: string[]): Promise<void> {
  const tex = path.join(outDir, `table-${t.spec.id}.tex`);
  await writeFileAtomic(tex, toLatex(t));
  const csvRows = t.methods.map((m, i) => {
    const r: Record<string, unknown> = { method: m };
    t.spec.columns.forEach((c, j) => {
      r[`${c.task}/${c.metric}`] = t.cells[i]![j]!.mean;
      r[`${c.task}/${c.metric} ci95`] = t.cells[i]![j]!.ci95;
      r[`${c.task}/${c.metric} n`] = t.cells[i]![j]!.n;
      if (c.paper) r[`${c.task}/${c.metric} paper`] = t.paper[i]![j];
    });
    return r;
  });
  const csv = path.join(outDir, `table-${t.spec.id}.csv`);
  await writeFileAtomic(csv, toCsv(csvRows));
  files.push(tex, csv);
}

export async function generateReport(gridRoot: string, opts: ReportOptions = {}): Promise<Report> {
  const say = opts.onProgress ?? (() => {});
  const outDir = opts.outDir ?? path.join(gridRoot, 'report');
  const content = await buildReport(gridRoot, { onProgress: say });
  // The grid's own report folder is the report's alone: cleared, so no file of an earlier report (an older layout,
  // a figure no longer drawn) survives beside the new one. A folder given with outDir is only written into.
  if (!opts.outDir) await rm(outDir, { recursive: true, force: true });
  const { results, methods, tasks, tables, figures, notes: contentNotes } = content;
  const notes = [...contentNotes];
  const files = await writeGridResults(results, outDir);

  const md: string[] = [];
  for (const t of tables) {
    md.push(toMarkdown(t));
    await writeTable(t, outDir, files);
  }
  const contrastMd = tasks.map((t) => content.contrasts[t]!).filter(Boolean);
  const write = async (name: string, text: string) => {
    const f = path.join(outDir, name);
    await writeFileAtomic(f, text);
    files.push(f);
  };
  await write('tables.md', md.join('\n'));
  await write('paired.md', contrastMd.length ? contrastMd.join('\n') : 'No paired differences: no contrast has per-frame scores in both arms.\n');
  const perEditMd = content.perEdit.map(toMarkdown);
  for (const t of content.perEdit) await writeTable(t, outDir, files);
  await write('tables-per-edit.md', perEditMd.join('\n'));
  const perEditPaired = Object.values(content.contrastsPerEdit)
    .flatMap((byTask) => tasks.map((t) => byTask[t]!))
    .filter(Boolean);
  await write(
    'paired-per-edit.md',
    perEditPaired.length ? perEditPaired.join('\n') : 'No paired differences per edit: no contrast has per-frame scores in both arms.\n',
  );
  await write('wall-time.md', content.wallTime);
  for (const s of content.sweeps) await write(`sweep-${slug(s.name)}.md`, s.markdown);
  say(`tables: ${tables.length} + ${content.perEdit.length} per edit`);

  for (const [name, fig] of Object.entries(figures)) {
    const f = path.join(outDir, 'figures', `${name}.json`);
    await writeJsonAtomic(f, fig);
    files.push(f);
  }
  const formats = opts.formats ?? ['png', 'svg'];
  const exported: string[] = [];
  if (formats.length && Object.keys(figures).length) {
    if (!findChromium()) notes.push(`Figures were written as Plotly specs only: ${NO_CHROMIUM}.`);
    else {
      const ex = await FigureExporter.launch();
      try {
        for (const [name, fig] of Object.entries(figures)) {
          for (const fmt of formats) {
            const f = path.join(outDir, 'figures', `${name}.${fmt}`);
            await ex.export(fig, f, fmt);
            exported.push(f);
          }
          say(`figure ${name}`);
        }
      } finally {
        await ex.close();
      }
    }
  }
  files.push(...exported);
  for (const c of content.comparisons) {
    const f = path.join(outDir, 'figures', `${c.name}.png`);
    await writeGridPng(c.spec, f);
    files.push(f);
  }

  const counts = { done: 0, failed: 0, incomplete: 0 };
  for (const c of results.cells) counts[c.status]++;
  const figLine = (n: string) => (exported.some((f) => f.endsWith(`${n}.png`)) ? `![${n}](figures/${n}.png)` : `- figures/${n}.json (Plotly spec)`);
  const idx = [
    `# Report: ${content.name}`,
    '',
    content.description ? `${content.description}\n` : '',
    `Cells: ${results.cells.length} (${counts.done} done, ${counts.failed} failed, ${counts.incomplete} incomplete). Methods: ${methods.join(', ')}. Tasks: ${tasks.map((t) => TASK_LABELS[t] ?? t).join(', ') || '—'}.`,
    '',
    ...results.cells.filter((c) => c.status === 'failed').map((c) => `- failed: ${c.method}/${c.subject}/${c.edit}/seed-${c.seed}: ${c.error}`),
    '',
    '## Tables',
    '',
    md.join('\n'),
    '## Paired differences',
    '',
    contrastMd.length ? contrastMd.join('\n') : 'None: no contrast has per-frame scores in both arms.\n',
    '## Per edit',
    '',
    'The summary table per edit (mean ± 95% CI over seeds within the edit): `tables-per-edit.md`; the paired differences per edit: `paired-per-edit.md`.',
    '',
    '## Wall time',
    '',
    content.wallTime,
    ...(content.sweeps.length
      ? [
          '## Sweeps',
          '',
          ...content.sweeps.map(
            (s) => `- ${s.name} (${s.dir}): ${PARAM_LABELS[s.param] ?? s.param} over ${Object.values(s.values).join(', ')}; tables in sweep-${slug(s.name)}.md`,
          ),
          '',
        ]
      : []),
    '## Figures',
    '',
    ...Object.keys(figures).map(figLine),
    '',
    ...(content.comparisons.length
      ? [
          '## Methods side by side (unedited | methods | GT edit, mouth close-ups)',
          '',
          ...content.comparisons.map((c) => `![${c.name}](figures/${c.name}.png)`),
          '',
        ]
      : []),
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
    'Files: summary.csv (per method, task, metric: mean, sd, 95% CI, n), metrics.csv (every cell), cells.csv (status, wall time), paired.csv (every pair of arms), results.json, table-*.tex / *.csv, tables.md, paired.md, tables-per-edit.md, paired-per-edit.md, wall-time.md, sweep-*.md.',
    '',
  ].join('\n');
  await write('index.md', idx);
  return { outDir, results, tables, figures, files, notes, content };
}

/** The kinds of a report's figures, by name prefix (see buildReport). */
export type FigureKind = 'bars' | 'paired' | 'sweep' | 'training' | 'adversary' | 'norms';
const KIND_PREFIX: Record<FigureKind, RegExp> = {
  bars: /^bars-/,
  paired: /^paired-/,
  sweep: /^sweep-/,
  training: /^training-/,
  adversary: /^adversary-|^sweep-.*-discriminator$/,
  norms: /^mouth-update-norms$/,
};

/** A report's figures of one kind, in the report's order (notebooks show them by kind). */
export function figuresOf(content: Pick<ReportContent, 'figures'>, kind: FigureKind): [string, Figure][] {
  return Object.entries(content.figures).filter(([n]) => KIND_PREFIX[kind].test(n) && !(kind === 'sweep' && /-discriminator$/.test(n)));
}
