/**
 * Plotly figures as plain specs (data + layout JSON): built here, rendered by Plotly anywhere (inline in a
 * tslab notebook, in a page, or exported to PNG/SVG/PDF by ./export.ts).
 */
import { readFileSync } from 'node:fs';
import type { AggRow, PairedRow } from '../experiments/results.js';
import { resolveFromLib } from '../util/lib-dir.js';
import { paperValue, TASK_LABELS } from './paper.js';

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const FONT = { family: 'DejaVu Sans, Arial, sans-serif', size: 13 };
const baseLayout = (title: string, x: string, y: string): Record<string, unknown> => ({
  title: { text: title },
  font: FONT,
  xaxis: { title: { text: x }, automargin: true },
  yaxis: { title: { text: y }, automargin: true, zeroline: false },
  legend: { orientation: 'h', y: -0.2 },
  margin: { l: 60, r: 20, t: 60, b: 60 },
  paper_bgcolor: 'white',
  plot_bgcolor: 'white',
});

/**
 * Grouped bars of one metric: methods on x, one trace per task, the 95% CI as error bars (none for n = 1);
 * with `paper`, the paper's numbers as diamond markers on the same axes.
 */
export function metricBars(
  agg: AggRow[],
  opts: { metric: string; title?: string; yLabel?: string; tasks?: string[]; methods?: string[]; paper?: boolean },
): Figure {
  const rows = agg.filter((r) => r.metric === opts.metric && r.subject === undefined);
  if (rows.length === 0) throw new Error(`metricBars: no results for metric '${opts.metric}'`);
  const methods = opts.methods ?? [...new Set(rows.map((r) => r.method))];
  const tasks = opts.tasks ?? [...new Set(rows.map((r) => r.task))];
  const data: Record<string, unknown>[] = tasks.map((task) => {
    const ys = methods.map((m) => rows.find((r) => r.method === m && r.task === task) ?? null);
    return {
      type: 'bar',
      name: TASK_LABELS[task] ?? task,
      offsetgroup: task,
      x: methods,
      y: ys.map((r) => r?.mean ?? null),
      error_y: { type: 'data', array: ys.map((r) => r?.ci95 ?? 0), visible: true },
      customdata: ys.map((r) => r?.n ?? 0),
      hovertemplate: '%{x}: %{y:.4f} ± %{error_y.array:.4f} (n=%{customdata})<extra>%{fullData.name}</extra>',
    };
  });
  if (opts.paper) {
    let first = true;
    for (const task of tasks) {
      const ys = methods.map((m) => paperValue(m, task, opts.metric));
      if (ys.every((v) => v === null)) continue;
      // Same offsetgroup as the task's bars (with scattermode 'group'): each marker sits on its bar.
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: 'paper (Table 1)',
        legendgroup: 'paper',
        showlegend: first,
        offsetgroup: task,
        x: methods,
        y: ys,
        marker: { symbol: 'diamond', size: 10, color: 'black', line: { color: 'white', width: 1 } },
        hovertemplate: `%{x}, ${TASK_LABELS[task] ?? task}: %{y:.3f} (paper)<extra></extra>`,
      });
      first = false;
    }
  }
  return { data, layout: { ...baseLayout(opts.title ?? opts.metric, 'method', opts.yLabel ?? opts.metric), barmode: 'group', scattermode: 'group' } };
}

/** One line per key over `x` (default 'step') from metrics.jsonl records; optional exponential smoothing. */
export function trainingCurves(
  records: Record<string, unknown>[],
  opts: { keys: string[]; x?: string; title?: string; yLabel?: string; smooth?: number; logY?: boolean },
): Figure {
  const x = opts.x ?? 'step';
  const data = opts.keys.map((k) => {
    const pts = records.filter((r) => typeof r[x] === 'number' && typeof r[k] === 'number' && Number.isFinite(r[k] as number));
    const ys = pts.map((r) => r[k] as number);
    const a = opts.smooth ?? 0;
    if (a > 0) for (let i = 1; i < ys.length; i++) ys[i] = a * ys[i - 1]! + (1 - a) * ys[i]!;
    return { type: 'scatter', mode: 'lines', name: k, x: pts.map((r) => r[x]), y: ys };
  });
  if (data.every((d) => (d.x as unknown[]).length === 0)) throw new Error(`trainingCurves: no records have '${x}' and any of ${opts.keys.join(', ')}`);
  const layout = baseLayout(opts.title ?? 'training', x, opts.yLabel ?? 'value');
  if (opts.logY) (layout.yaxis as Record<string, unknown>).type = 'log';
  return { data, layout };
}

/**
 * Several runs' curves on one set of axes (e.g. two methods' losses): `trainingCurves` per run, traces named
 * "<run>: <key>", each run in its own colour with one dash style per key. Runs that logged none of the keys
 * are left out; all runs without them is an error.
 */
export function runCurves(
  runs: { name: string; records: Record<string, unknown>[] }[],
  opts: { keys: string[]; x?: string; title?: string; yLabel?: string; smooth?: number; logY?: boolean },
): Figure {
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const dashes = ['solid', 'dash', 'dot', 'dashdot'];
  const data: Record<string, unknown>[] = [];
  let layout: Record<string, unknown> | null = null;
  runs.forEach((run, i) => {
    let fig: Figure;
    try {
      fig = trainingCurves(run.records, opts);
    } catch {
      return;
    }
    layout ??= fig.layout;
    fig.data.forEach((t, k) => {
      if ((t.x as unknown[]).length === 0) return;
      data.push({
        ...t,
        name: `${run.name}: ${t.name as string}`,
        legendgroup: run.name,
        line: { color: colours[i % colours.length], dash: dashes[k % dashes.length] },
      });
    });
  });
  if (!layout) throw new Error(`runCurves: none of ${runs.map((r) => r.name).join(', ')} logged any of ${opts.keys.join(', ')}`);
  return { data, layout };
}

/** Reads a run's metrics.jsonl (one JSON object per line); a bad line names the file and line. */
export function readMetricsJsonl(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const out: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      out.push(v as Record<string, unknown>);
    } catch (e) {
      // A last line cut by a kill is expected in a resumable run: skip it, but only the last one.
      if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) return;
      throw new Error(`${file}:${i + 1}: not a JSON object (${(e as Error).message})`, { cause: e });
    }
  });
  return out;
}

export interface SweepPoint {
  beta: number;
  mean: number | null;
  ci95: number | null;
  /** One line per series (e.g. a task or a region). */
  series?: string;
}

/** A WABE β sweep: metric against β, one line per series, CI error bars. */
export function betaSweep(points: SweepPoint[], opts: { metric: string; title?: string; yLabel?: string; xLabel?: string; logX?: boolean }): Figure {
  if (points.length === 0) throw new Error('betaSweep: no points');
  const series = [...new Set(points.map((p) => p.series ?? opts.metric))];
  const data = series.map((s) => {
    const pts = points.filter((p) => (p.series ?? opts.metric) === s).sort((a, b) => a.beta - b.beta);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: s,
      x: pts.map((p) => p.beta),
      y: pts.map((p) => p.mean),
      error_y: { type: 'data', array: pts.map((p) => p.ci95 ?? 0), visible: true },
    };
  });
  const layout = baseLayout(opts.title ?? `WABE β sweep: ${opts.metric}`, opts.xLabel ?? 'β', opts.yLabel ?? opts.metric);
  if (opts.logX) (layout.xaxis as Record<string, unknown>).type = 'log';
  return { data, layout };
}

/**
 * Sweep points from a grid whose methods differ in a β parameter (method params[param], default 'wabeBeta'):
 * one series per task.
 */
export function betaPointsFromResults(
  agg: AggRow[],
  methodParams: Record<string, Record<string, unknown>>,
  opts: { metric: string; param?: string },
): SweepPoint[] {
  const param = opts.param ?? 'wabeBeta';
  const out: SweepPoint[] = [];
  for (const r of agg) {
    if (r.metric !== opts.metric || r.subject !== undefined) continue;
    const beta = methodParams[r.method]?.[param];
    if (typeof beta !== 'number') continue;
    out.push({ beta, mean: r.mean, ci95: r.ci95, series: TASK_LABELS[r.task] ?? r.task });
  }
  return out;
}

let plotlySource: string | undefined;

/**
 * HTML that draws the figure where it is inserted (a tslab notebook: `tslab.display.html(figureHtml(fig))`).
 * The first call per page should pass `includePlotly: true` to inline plotly.js from node_modules (no CDN).
 */
export async function figureHtml(fig: Figure, opts: { id?: string; includePlotly?: boolean; width?: number; height?: number } = {}): Promise<string> {
  const id = opts.id ?? `gae-fig-${Math.random().toString(36).slice(2, 10)}`;
  let lib = '';
  if (opts.includePlotly) {
    if (plotlySource === undefined) {
      const { readFile } = await import('node:fs/promises');
      plotlySource = await readFile(resolveFromLib('plotly.js-dist-min'), 'utf8');
    }
    lib = `<script>${plotlySource.replace(/<\/script/gi, '<\\/script')}</script>`;
  }
  const json = JSON.stringify({
    data: fig.data,
    layout: { ...fig.layout, ...(opts.width ? { width: opts.width } : {}), ...(opts.height ? { height: opts.height } : {}) },
  }).replace(/</g, '\\u003c');
  return `${lib}<div id="${id}"></div><script>(function(){var f=${json};Plotly.newPlot(${JSON.stringify(id)},f.data,f.layout,{responsive:true});})();</script>`;
}

/**
 * Paired differences a − b of one metric as bars: one bar per contrast, one trace per task, the bootstrap 95%
 * interval as asymmetric error bars (it need not be centred on the mean). Contrasts without the metric are gaps.
 */
export function contrastBars(
  rows: readonly PairedRow[],
  opts: { metric: string; contrasts: readonly (readonly [string, string])[]; tasks: string[]; title?: string; yLabel?: string },
): Figure {
  const labels = opts.contrasts.map(([a, b]) => `${a} − ${b}`);
  const data = opts.tasks.map((task) => {
    const rs = opts.contrasts.map(([a, b]) => rows.find((r) => r.a === a && r.b === b && r.task === task && r.metric === opts.metric) ?? null);
    return {
      type: 'bar',
      name: TASK_LABELS[task] ?? task,
      offsetgroup: task,
      x: labels,
      y: rs.map((r) => r?.mean ?? null),
      error_y: {
        type: 'data',
        symmetric: false,
        array: rs.map((r) => (r && r.mean !== null && r.hi !== null ? r.hi - r.mean : 0)),
        arrayminus: rs.map((r) => (r && r.mean !== null && r.lo !== null ? r.mean - r.lo : 0)),
        visible: true,
      },
      customdata: rs.map((r) => r?.n ?? 0),
      hovertemplate: '%{x}: %{y:.4f} (frames %{customdata})<extra>%{fullData.name}</extra>',
    };
  });
  if (data.every((d) => d.y.every((v) => v === null))) throw new Error(`contrastBars: no paired differences for metric '${opts.metric}'`);
  const layout = baseLayout(opts.title ?? `Paired differences: ${opts.metric}`, 'contrast (a − b)', opts.yLabel ?? `Δ ${opts.metric}`);
  (layout.yaxis as Record<string, unknown>).zeroline = true;
  return { data, layout: { ...layout, barmode: 'group' } };
}
