/**
 * A grid's report, regenerated from its run directories alone: results CSV/JSON, Table 1 layouts (Markdown,
 * LaTeX, CSV), Plotly figure specs (JSON) and, where Chromium is installed, their PNG/SVG/PDF exports, and an
 * index.md that ties them together and says what is missing and why.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import type { GridConfig } from '../experiments/config.js';
import { methodDef } from '../experiments/config.js';
import { loadGridResults, toCsv, writeGridResults, type GridResults } from '../experiments/results.js';
import { metricNames, REPORT_REGIONS } from '../metrics/names.js';
import { FigureExporter, findChromium, NO_CHROMIUM, type FigureFormat } from './export.js';
import { betaPointsFromResults, betaSweep, metricBars, readMetricsJsonl, trainingCurves, type Figure } from './figures.js';
import { TASK_LABELS } from './paper.js';
import { comparisonSeed, methodComparison } from './compare.js';
import { writeGridPng } from './grid.js';
import { buildTable, clipSpec, consistencySpec, editEffectSpec, pairedMarkdown, gtEditSpec, mouthOpenSpec, toLatex, toMarkdown, type Table } from './table.js';

export interface ReportOptions {
  /** Default <gridRoot>/report. */
  outDir?: string;
  /** Figure files to export; [] writes the specs only. Default png, svg, pdf. */
  formats?: FigureFormat[];
  onProgress?: (message: string) => void;
}

export interface Report {
  outDir: string;
  results: GridResults;
  tables: Table[];
  figures: Record<string, Figure>;
  files: string[];
  notes: string[];
}

function readGridConfig(gridRoot: string): GridConfig | undefined {
  const f = path.join(gridRoot, 'grid.json');
  if (!existsSync(f)) return undefined;
  return (JSON.parse(readFileSync(f, 'utf8')) as { config: GridConfig }).config;
}

const TASK_ORDER = ['novel-view', 'self-reenactment', 'cross-identity'];
const byTaskOrder = (a: string, b: string) => (TASK_ORDER.indexOf(a) + 1 || 99) - (TASK_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b);

/** Numeric keys of a metrics.jsonl worth plotting (not the x axis or clocks). */
function curveKeys(records: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !['step', 'iter', 'time', 'wall', 'epoch', 'timestamp'].includes(k)) keys.add(k);
  return [...keys].sort();
}

export async function generateReport(gridRoot: string, opts: ReportOptions = {}): Promise<Report> {
  const say = opts.onProgress ?? (() => {});
  const outDir = opts.outDir ?? path.join(gridRoot, 'report');
  const results = await loadGridResults(gridRoot);
  if (results.cells.length === 0) throw new Error(`${gridRoot}: no cell directories with results (run \`gae ablate\` first)`);
  const cfg = readGridConfig(gridRoot);
  const files = await writeGridResults(results, outDir);
  const notes: string[] = [];
  if (!cfg) notes.push('grid.json is missing: method order and parameters were inferred from the run directories.');

  const methods = cfg ? cfg.methods.map((m) => methodDef(m).name).filter((m) => results.cells.some((c) => c.method === m)) : [...new Set(results.cells.map((c) => c.method))];
  const tasks = [...new Set(results.rows.map((r) => r.task))].sort(byTaskOrder);
  const metrics = new Set(results.rows.map((r) => r.metric));
  const has = (m: string) => metrics.has(m);

  // Tables: the GT-edit benchmark first (our headline), then the paper's CLIP table, then consistency.
  const tables: Table[] = [];
  for (const task of tasks) {
    const regions = REPORT_REGIONS.filter((r) => has(metricNames.psnr(r)) || has(metricNames.ssim(r)));
    const spec = gtEditSpec(task, regions, methods);
    spec.columns = spec.columns.filter((c) => has(c.metric)); // only what the runners reported
    if (spec.columns.length) tables.push(buildTable(results.table, spec, results.paired));
  }
  if (has(metricNames.leakage()) || has(metricNames.editStrength)) {
    const spec = editEffectSpec(tasks, methods);
    spec.columns = spec.columns.filter((c) => has(c.metric));
    tables.push(buildTable(results.table, spec, results.paired));
  }
  if (has(metricNames.psnrOpen('mouthInterior'))) tables.push(buildTable(results.table, mouthOpenSpec(tasks, methods), results.paired));
  tables.push(buildTable(results.table, clipSpec(tasks.length ? tasks : TASK_ORDER, methods), results.paired));
  if (has(metricNames.flicker('head')) || has(metricNames.viewConsistency)) tables.push(buildTable(results.table, consistencySpec(tasks, methods), results.paired));
  const md: string[] = [];
  for (const t of tables) {
    md.push(toMarkdown(t));
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
    await writeFileAtomic(path.join(outDir, `table-${t.spec.id}.csv`), toCsv(csvRows));
    files.push(tex, path.join(outDir, `table-${t.spec.id}.csv`));
  }
  const pairedMd = pairedMarkdown(results.paired);
  if (pairedMd) md.push(pairedMd);
  await writeFileAtomic(path.join(outDir, 'tables.md'), md.join('\n'));
  files.push(path.join(outDir, 'tables.md'));
  say(`tables: ${tables.length}`);

  // Figures.
  const figures: Record<string, Figure> = {};
  const barMetrics: [string, string][] = [
    [metricNames.clipS, 'CLIP-S (directional similarity)'],
    [metricNames.clipC, 'CLIP-C (direction consistency)'],
    ...REPORT_REGIONS.flatMap((r): [string, string][] => [
      [metricNames.psnr(r), `PSNR ${r} vs GT edit (dB)`],
      [metricNames.ssim(r), `SSIM ${r} vs GT edit`],
    ]),
    [metricNames.flicker('head'), 'Temporal flicker (head)'],
    [metricNames.viewConsistency, 'Multi-view inconsistency'],
  ];
  for (const [m, title] of barMetrics) {
    if (!results.table.some((r) => r.metric === m && r.mean !== null)) continue;
    figures[`bars-${m.replace(/\//g, '-')}`] = metricBars(results.table, { metric: m, title, methods, tasks, paper: m === 'clipS' || m === 'clipC' });
  }
  if (cfg) {
    const params = Object.fromEntries(cfg.methods.map(methodDef).map((m) => [m.name, { ...cfg.params, ...m.params }]));
    const betas = new Set(Object.values(params).map((p) => p.wabeBeta).filter((b) => typeof b === 'number'));
    if (betas.size >= 2) {
      const sweeps: [string, string][] = [
        [metricNames.psnr('mouthInterior'), 'PSNR mouth interior vs GT edit (dB)'],
        [metricNames.psnrOpen('mouthInterior'), 'PSNR mouth interior, mouth-open frames (dB)'],
        [metricNames.psnr('head'), 'PSNR head vs GT edit (dB)'],
        [metricNames.clipS, 'CLIP-S'],
      ];
      for (const [m, yLabel] of sweeps) {
        const pts = betaPointsFromResults(results.table, params, { metric: m });
        if (pts.some((p) => p.mean !== null)) figures[`beta-sweep-${m.replace(/\//g, '-')}`] = betaSweep(pts, { metric: m, yLabel, title: `WABE β sweep: ${yLabel}` });
      }
    }
  }
  // Training curves: the first finished cell of each method that logged a metrics.jsonl.
  for (const m of methods) {
    // A runner logs into the cell directory or into a run directory inside it (the edit runner: edit/).
    const logOf = (c: { method: string; subject: string; edit: string; seed: number }) =>
      ['metrics.jsonl', path.join('edit', 'metrics.jsonl')].map((f) => path.join(gridRoot, c.method, c.subject, c.edit, `seed-${c.seed}`, f)).find((f) => existsSync(f));
    const cell = results.cells.find((c) => c.method === m && c.status === 'done' && logOf(c));
    if (!cell) continue;
    const file = logOf(cell)!;
    const recs = readMetricsJsonl(file);
    const keys = curveKeys(recs);
    if (keys.length && recs.some((r) => typeof r.step === 'number')) {
      figures[`training-${m}`] = trainingCurves(recs, { keys, title: `Training: ${m} (${cell.subject}, ${cell.edit}, seed ${cell.seed})` });
    }
  }
  for (const [name, fig] of Object.entries(figures)) {
    const f = path.join(outDir, 'figures', `${name}.json`);
    await writeJsonAtomic(f, fig);
    files.push(f);
  }
  const formats = opts.formats ?? ['png', 'svg', 'pdf'];
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

  // Methods side by side with mouth close-ups, for every (subject, edit) at the seed where the most methods
  // saved their evaluation frames (lib/edit/evaluate.ts), the lowest such seed on a tie: cells run before
  // frames were saved would otherwise leave their seed's grid mostly grey.
  const comparisons: string[] = [];
  const seedsOf = new Map<string, { subject: string; edit: string; seeds: Set<number> }>();
  for (const c of results.cells) {
    if (c.status !== 'done') continue;
    const k = `${c.subject}/${c.edit}`;
    const g = seedsOf.get(k) ?? { subject: c.subject, edit: c.edit, seeds: new Set<number>() };
    g.seeds.add(c.seed);
    seedsOf.set(k, g);
  }
  const groups = [...seedsOf.values()].map((g) => ({ subject: g.subject, edit: g.edit, seed: comparisonSeed(gridRoot, { ...g, methods, seeds: [...g.seeds] }) }));
  for (const g of groups) {
    for (const split of ['test', 'cross', 'val']) {
      let cmp;
      try {
        cmp = await methodComparison(gridRoot, { ...g, methods, split });
      } catch {
        continue; // no cell of this group saved frames
      }
      if (cmp.spec.rows.length === 0) continue;
      const f = path.join(outDir, 'figures', `compare-${g.subject}-${g.edit}-${split}.png`);
      await writeGridPng(cmp.spec, f);
      comparisons.push(f);
      files.push(f);
      if (cmp.missing.length) notes.push(`compare-${g.subject}-${g.edit}-${split}.png: grey columns: ${cmp.missing.join('; ')}`);
    }
  }
  if (comparisons.length) say(`comparison grids: ${comparisons.length}`);

  // index.md
  const counts = { done: 0, failed: 0, incomplete: 0 };
  for (const c of results.cells) counts[c.status]++;
  const idx = [
    `# Report: ${cfg?.name ?? path.basename(gridRoot)}`,
    '',
    cfg?.description ? `${cfg.description}\n` : '',
    `Cells: ${results.cells.length} (${counts.done} done, ${counts.failed} failed, ${counts.incomplete} incomplete). Methods: ${methods.join(', ')}. Tasks: ${tasks.map((t) => TASK_LABELS[t] ?? t).join(', ') || '—'}.`,
    '',
    ...(results.cells.filter((c) => c.status === 'failed').map((c) => `- failed: ${c.method}/${c.subject}/${c.edit}/seed-${c.seed}: ${c.error}`)),
    '',
    md.join('\n'),
    '## Figures',
    '',
    ...Object.keys(figures).map((n) => (exported.some((f) => f.endsWith(`${n}.png`)) ? `![${n}](figures/${n}.png)` : `- figures/${n}.json (Plotly spec)`)),
    '',
    ...(comparisons.length ? ['## Methods side by side (unedited | methods | GT edit, mouth close-ups)', '', ...comparisons.map((f) => `![${path.basename(f)}](figures/${path.basename(f)})`), ''] : []),
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
    'Files: summary.csv (per method, task, metric: mean, sd, 95% CI, n), metrics.csv (every cell), cells.csv (status), results.json, table-*.tex / *.csv.',
    '',
  ].join('\n');
  await writeFileAtomic(path.join(outDir, 'index.md'), idx);
  files.push(path.join(outDir, 'index.md'));
  return { outDir, results, tables, figures, files, notes };
}
