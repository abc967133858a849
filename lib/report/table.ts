/**
 * Table 1 layouts (methods × tasks × metrics) from aggregated results: as a danfo DataFrame, Markdown and
 * LaTeX (booktabs). Our numbers are mean ± 95% CI over seeds; the paper's numbers stand beside ours where
 * they are comparable (CLIP-S / CLIP-C). The best of our methods per column is bold only where the evidence
 * says it is better than every other method: its paired per-frame difference to each has a bootstrap 95%
 * interval that excludes zero (or, where no per-frame scores were saved, the seeds' 95% CIs do not overlap).
 * Inside an interval holding zero there is no best.
 */
import type { AggRow, PairedRow } from '../experiments/results.js';
import { metricNames, REGION_LABELS, REPORT_REGIONS } from '../metrics/names.js';
import { paperValue, TASK_LABELS } from './paper.js';

export interface TableColumn {
  task: string;
  metric: string;
  /** Header text (the task is shown as a group above it). */
  label: string;
  digits: number;
  better: 'higher' | 'lower';
  /** Add the paper's number in a column beside ours. */
  paper?: boolean;
}

export interface TableSpec {
  id: string;
  title: string;
  columns: TableColumn[];
  /** Row order; default: methods in the order they appear in the results. */
  methods?: string[];
  /** Text of a cell without a number; default '—'. */
  missingText?: string;
}

export interface TableCell {
  mean: number | null;
  ci95: number | null;
  n: number;
  note?: string;
}

export interface Table {
  spec: TableSpec;
  methods: string[];
  cells: TableCell[][]; // [method][column]
  paper: (number | null)[][]; // [method][column], null where the paper has none or the column has no paper
  best: (number | null)[]; // per column, the index of the best method, or null (no mark without evidence)
  notes: string[];
}

/**
 * Whether method `i` beats method `j` on a column: the paired difference's interval lies on the better side of
 * zero; without paired rows, their seed CIs are disjoint in the better direction; otherwise no.
 */
function beats(c: TableColumn, mi: string, mj: string, ci: TableCell, cj: TableCell, paired: PairedRow[]): boolean {
  const sign = c.better === 'higher' ? 1 : -1;
  const p = paired.find((r) => r.task === c.task && r.metric === c.metric && ((r.a === mi && r.b === mj) || (r.a === mj && r.b === mi)));
  if (p) {
    if (p.lo === null || p.hi === null) return false;
    const flip = p.a === mi ? 1 : -1; // the interval of (i − j)
    const lo = flip === 1 ? p.lo : -p.hi,
      hi = flip === 1 ? p.hi : -p.lo;
    return sign > 0 ? lo > 0 : hi < 0;
  }
  if (ci.mean === null || cj.mean === null || ci.ci95 === null || cj.ci95 === null) return false;
  return sign > 0 ? ci.mean - ci.ci95 > cj.mean + cj.ci95 : ci.mean + ci.ci95 < cj.mean - cj.ci95;
}

export function buildTable(agg: AggRow[], spec: TableSpec, paired: PairedRow[] = []): Table {
  const methods = spec.methods ?? [...new Set(agg.map((r) => r.method))];
  const index = new Map(agg.filter((r) => r.subject === undefined).map((r) => [`${r.method}\u0000${r.task}\u0000${r.metric}`, r]));
  const notes = new Set<string>();
  // A column no method has a number for gets one note, not one per method.
  const empty = spec.columns.map((c) => methods.length > 0 && methods.every((m) => (index.get(`${m}\u0000${c.task}\u0000${c.metric}`)?.mean ?? null) === null));
  spec.columns.forEach((c, j) => {
    if (empty[j]) notes.add(`${TASK_LABELS[c.task] ?? c.task} ${c.label}: not computed by any cell`);
  });
  const cells = methods.map((m) =>
    spec.columns.map((c, j): TableCell => {
      const r = index.get(`${m}\u0000${c.task}\u0000${c.metric}`);
      if (empty[j]) return { mean: null, ci95: null, n: 0, note: r?.note ?? 'not reported' };
      if (!r) {
        notes.add(`${m}, ${TASK_LABELS[c.task] ?? c.task} ${c.label}: not reported by any cell`);
        return { mean: null, ci95: null, n: 0, note: 'not reported' };
      }
      if (r.note) notes.add(`${m}, ${TASK_LABELS[c.task] ?? c.task} ${c.label}: ${r.note}`);
      return { mean: r.mean, ci95: r.ci95, n: r.n, ...(r.note ? { note: r.note } : {}) };
    }),
  );
  const paper = methods.map((m) => spec.columns.map((c) => (c.paper ? paperValue(m, c.task, c.metric) : null)));
  const best = spec.columns.map((c, j) => {
    let bi: number | null = null;
    methods.forEach((_, i) => {
      const v = cells[i]![j]!.mean;
      if (v === null) return;
      const b = bi === null ? null : cells[bi]![j]!.mean!;
      if (b === null || (c.better === 'higher' ? v > b : v < b)) bi = i;
    });
    if (bi === null || methods.filter((_, i) => cells[i]![j]!.mean !== null).length < 2) return null;
    const b: number = bi;
    const clear = methods.every((m, i) => i === b || cells[i]![j]!.mean === null || beats(c, methods[b]!, m, cells[b]![j]!, cells[i]![j]!, paired));
    return clear ? b : null;
  });
  if (spec.columns.length) {
    notes.add(
      paired.length
        ? 'Bold: the best mean where its paired per-frame difference to every other method has a 95% bootstrap interval (runs, then frames) that excludes zero; no mark otherwise.'
        : "Bold: the best mean where its 95% CI over seeds does not overlap any other method's; no mark otherwise.",
    );
  }
  const ns = new Set(
    cells
      .flat()
      .filter((c) => c.mean !== null)
      .map((c) => c.n),
  );
  if (ns.size === 1) {
    const n = [...ns][0]!;
    notes.add(n === 1 ? 'Ours: one seed (n = 1): no confidence interval.' : `Ours: mean ± 95% CI over n = ${n} seeds (Student t).`);
  } else if (ns.size > 1) {
    notes.add('Ours: mean ± 95% CI over seeds (Student t); (n=k) marks cells with fewer seeds than the others; n = 1 has no CI.');
  }
  if (spec.columns.some((c) => c.paper))
    notes.add('Paper: GaussianAvatar-Editor Table 1 (CLIP ViT-L/14 on NeRSemble); not the same data as ours, shown for scale only.');
  return { spec, methods, cells, paper, best, notes: [...notes] };
}

const maxN = (t: Table) => Math.max(0, ...t.cells.flat().map((c) => c.n));

function formatCell(t: Table, c: TableCell, col: TableColumn, pm: string): string {
  if (c.mean === null) return t.spec.missingText ?? '—';
  let s = c.mean.toFixed(col.digits);
  if (c.ci95 !== null) s += `${pm}${c.ci95.toFixed(col.digits)}`;
  if (c.n < maxN(t)) s += ` (n=${c.n})`;
  return s;
}

/** Header labels of the flat (Markdown / DataFrame) form: one column per value, paper columns after ours. */
function flatColumns(t: Table): { label: string; col: number; paper: boolean }[] {
  const out: { label: string; col: number; paper: boolean }[] = [];
  t.spec.columns.forEach((c, j) => {
    const task = TASK_LABELS[c.task] ?? c.task;
    out.push({ label: `${task} ${c.label}`, col: j, paper: false });
    if (c.paper) out.push({ label: `${task} ${c.label} (paper)`, col: j, paper: true });
  });
  return out;
}

export function toMarkdown(t: Table): string {
  const cols = flatColumns(t);
  const lines = [`**${t.spec.title}**`, '', `| Method | ${cols.map((c) => c.label).join(' | ')} |`, `| --- | ${cols.map(() => '---:').join(' | ')} |`];
  t.methods.forEach((m, i) => {
    const vals = cols.map(({ col, paper }) => {
      if (paper) {
        const p = t.paper[i]![col];
        return p === null ? '—' : p.toFixed(t.spec.columns[col]!.digits);
      }
      const s = formatCell(t, t.cells[i]![col]!, t.spec.columns[col]!, ' ± ');
      return t.best[col] === i ? `**${s}**` : s;
    });
    lines.push(`| ${m} | ${vals.join(' | ')} |`);
  });
  if (t.notes.length) lines.push('', ...t.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

const texEscape = (s: string) =>
  s
    .replace(/\\/g, '\\textbackslash{}')
    .replace(/([&%$#_{}])/g, '\\$1')
    .replace(/~/g, '\\textasciitilde{}')
    .replace(/\^/g, '\\textasciicircum{}')
    .replace(/—/g, '---')
    .replace(/±/g, '$\\pm$')
    .replace(/β/g, '$\\beta$');

/** A booktabs table with the tasks as column groups; needs \usepackage{booktabs}. */
export function toLatex(t: Table): string {
  const groups: { task: string; span: number }[] = [];
  const sub: string[] = [];
  t.spec.columns.forEach((c) => {
    const span = c.paper ? 2 : 1;
    const g = groups[groups.length - 1];
    if (g && g.task === c.task) g.span += span;
    else groups.push({ task: c.task, span });
    sub.push(texEscape(c.label));
    if (c.paper) sub.push(`${texEscape(c.label)} (paper)`);
  });
  const ncol = sub.length;
  const out = [
    '\\begin{table}[t]',
    '\\centering',
    '\\small',
    `\\caption{${texEscape(t.spec.title)}}`,
    `\\label{tab:${t.spec.id}}`,
    `\\begin{tabular}{l${'r'.repeat(ncol)}}`,
    '\\toprule',
  ];
  let at = 2;
  const rules: string[] = [];
  out.push(
    `Method & ${groups
      .map((g) => {
        rules.push(`\\cmidrule(lr){${at}-${at + g.span - 1}}`);
        at += g.span;
        return `\\multicolumn{${g.span}}{c}{${texEscape(TASK_LABELS[g.task] ?? g.task)}}`;
      })
      .join(' & ')} \\\\`,
  );
  out.push(rules.join(' '));
  out.push(` & ${sub.join(' & ')} \\\\`, '\\midrule');
  t.methods.forEach((m, i) => {
    const vals: string[] = [];
    t.spec.columns.forEach((c, j) => {
      const cell = t.cells[i]![j]!;
      let s = cell.mean === null ? (t.spec.missingText ? texEscape(t.spec.missingText) : '---') : formatCell(t, cell, c, ' $\\pm$ ');
      if (t.best[j] === i) s = `\\textbf{${s}}`;
      vals.push(s);
      if (c.paper) {
        const p = t.paper[i]![j];
        vals.push(p === null ? '---' : `\\textit{${p.toFixed(c.digits)}}`);
      }
    });
    out.push(`${texEscape(m)} & ${vals.join(' & ')} \\\\`);
  });
  out.push('\\bottomrule', '\\end{tabular}');
  if (t.notes.length) out.push(`\\par\\smallskip\\footnotesize ${t.notes.map(texEscape).join(' ')}`);
  out.push('\\end{table}');
  return out.join('\n') + '\n';
}

/** The table as a danfo DataFrame: one row per method; per column its mean, CI half-width, n, and the paper's value. */
export async function tableToDataFrame(t: Table): Promise<import('danfojs-node').DataFrame> {
  const dfd = await import('danfojs-node');
  (await import('../gpu/tfjs-quiet.js')).quietTfjs();
  const rows = t.methods.map((m, i) => {
    const r: Record<string, string | number | null> = { method: m };
    t.spec.columns.forEach((c, j) => {
      const key = `${c.task}/${c.metric}`;
      const cell = t.cells[i]![j]!;
      r[key] = cell.mean;
      r[`${key} ci95`] = cell.ci95;
      r[`${key} n`] = cell.n;
      if (c.paper) r[`${key} paper`] = t.paper[i]![j]!;
    });
    return r;
  });
  return new dfd.DataFrame(rows);
}

/** The GT-edit benchmark (our headline): PSNR and SSIM per region against the ground-truth edit, one task. */
export function gtEditSpec(task: string, regions: readonly string[] = REPORT_REGIONS, methods?: string[]): TableSpec {
  const columns: TableColumn[] = [];
  for (const r of regions) columns.push({ task, metric: metricNames.psnr(r), label: `PSNR ${REGION_LABELS[r] ?? r}`, digits: 2, better: 'higher' });
  for (const r of regions) columns.push({ task, metric: metricNames.ssim(r), label: `SSIM ${REGION_LABELS[r] ?? r}`, digits: 3, better: 'higher' });
  return {
    id: `gt-edit-${task}`,
    title: `Edit accuracy against the ground-truth edit (${TASK_LABELS[task] ?? task}): PSNR (dB) and SSIM per region`,
    columns,
    ...(methods ? { methods } : {}),
  };
}

/** WABE's hypothesis: edit accuracy on the frames with the mouth open (mouth interior and whole head), per task. */
export function mouthOpenSpec(tasks: readonly string[], methods?: string[]): TableSpec {
  const columns: TableColumn[] = [];
  for (const task of tasks) {
    columns.push({ task, metric: metricNames.psnrOpen('mouthInterior'), label: 'PSNR mouth int. (open)', digits: 2, better: 'higher' });
    columns.push({ task, metric: metricNames.psnrOpen('head'), label: 'PSNR head (open)', digits: 2, better: 'higher' });
  }
  return {
    id: 'mouth-open',
    title: 'Edit accuracy on frames with the mouth open (PSNR dB against the GT edit): where WABE should help',
    columns,
    ...(methods ? { methods } : {}),
  };
}

/** The paper's Table 1: CLIP-S and CLIP-C per task, the paper's numbers beside ours. */
export function clipSpec(tasks: readonly string[], methods?: string[]): TableSpec {
  const columns: TableColumn[] = [];
  for (const task of tasks) {
    columns.push({ task, metric: metricNames.clipS, label: 'CLIP-S', digits: 3, better: 'higher', paper: true });
    columns.push({ task, metric: metricNames.clipC, label: 'CLIP-C', digits: 3, better: 'higher', paper: true });
  }
  return {
    id: 'clip',
    title: "CLIP directional similarity (CLIP-S) and direction consistency (CLIP-C), as the paper's Table 1",
    columns,
    ...(methods ? { methods } : {}),
  };
}

/** Temporal flicker and multi-view consistency (lower is better), with the GT edit's own flicker for reference. */
export function consistencySpec(tasks: readonly string[], methods?: string[]): TableSpec {
  const columns: TableColumn[] = [];
  for (const task of tasks) {
    columns.push({ task, metric: metricNames.flicker('head'), label: 'Flicker', digits: 4, better: 'lower' });
    columns.push({ task, metric: metricNames.flickerGT('head'), label: 'Flicker (GT)', digits: 4, better: 'lower' });
    columns.push({ task, metric: metricNames.viewConsistency, label: 'View incons.', digits: 4, better: 'lower' });
  }
  return {
    id: 'consistency',
    title: 'Temporal flicker and multi-view inconsistency of the edit residual (lower is better)',
    columns,
    ...(methods ? { methods } : {}),
  };
}

/**
 * Edit scores that do not reuse the 2D editor (lib/metrics/edit-scores.ts): leakage onto the edited regions'
 * guarded neighbours, preservation of unedited regions against the unedited avatar, edit strength.
 */
export function editEffectSpec(tasks: readonly string[], methods?: string[]): TableSpec {
  const columns: TableColumn[] = [];
  for (const task of tasks) {
    columns.push({ task, metric: metricNames.leakage(), label: 'Leakage', digits: 4, better: 'lower' });
    columns.push({ task, metric: metricNames.preservation, label: 'Preservation (dB)', digits: 2, better: 'higher' });
    // Strength: 1 is the full edit; more than 1 overshoots, so 'higher' marks only within [0, 1] in practice.
    columns.push({ task, metric: metricNames.editStrength, label: 'Edit strength', digits: 3, better: 'higher' });
  }
  return {
    id: 'edit-effect',
    title:
      'Leakage onto neighbouring regions (lower is better), preservation of unedited regions against the unedited avatar, and edit strength (1 = the full GT edit)',
    columns,
    ...(methods ? { methods } : {}),
  };
}

/** Metrics the paired-difference table lists by default: the mouth, the edit scores, the whole head. */
export const PAIRED_METRICS = [
  metricNames.psnrOpen('mouthInterior'),
  metricNames.psnr('head'),
  metricNames.leakage(),
  metricNames.preservation,
  metricNames.editStrength,
  metricNames.flicker('head'),
];

/**
 * Paired per-frame differences (a − b) between arms as Markdown: mean and bootstrap 95% interval, with a mark
 * where the interval excludes zero. One row per pair of methods, task and metric.
 */
export function pairedMarkdown(paired: PairedRow[], metrics: readonly string[] = PAIRED_METRICS): string {
  const rows = paired
    .filter((r) => metrics.includes(r.metric))
    .sort((x, y) => metrics.indexOf(x.metric) - metrics.indexOf(y.metric) || x.task.localeCompare(y.task) || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
  if (rows.length === 0) return '';
  const f = (v: number | null) => (v === null ? '—' : v.toFixed(4));
  const lines = [
    '**Paired per-frame differences between arms (a − b; same frames, same seeds), bootstrap 95% intervals over seeds then frames**',
    '',
    '| a − b | Task | Metric | Mean | 95% interval | Frames (seeds) | Excludes 0 |',
    '| --- | --- | --- | ---: | ---: | ---: | :---: |',
  ];
  for (const r of rows) {
    const clear = r.lo !== null && r.hi !== null && (r.lo > 0 || r.hi < 0);
    lines.push(
      `| ${r.a} − ${r.b} | ${TASK_LABELS[r.task] ?? r.task} | ${r.metric} | ${f(r.mean)} | [${f(r.lo)}, ${f(r.hi)}] | ${r.n} (${r.clusters}) | ${clear ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Issue 14's table per task: ground-truth PSNR (image, head, mouth interior, mouth interior on mouth-open frames,
 * eyes, skin), then the scores that do not reuse the 2D editor (leakage, preservation, flicker, edit strength),
 * then CLIP-S / CLIP-C. Every column is kept, so a metric no cell computed reads "not computed".
 */
export function summarySpec(task: string, methods?: string[]): TableSpec {
  const psnr = (metric: string, label: string): TableColumn => ({ task, metric, label, digits: 2, better: 'higher' });
  const columns: TableColumn[] = [
    psnr(metricNames.psnr('image'), 'PSNR image'),
    psnr(metricNames.psnr('head'), 'PSNR head'),
    psnr(metricNames.psnr('mouthInterior'), 'PSNR mouth int.'),
    psnr(metricNames.psnrOpen('mouthInterior'), 'PSNR mouth int. (open)'),
    psnr(metricNames.psnr('eyes'), 'PSNR eyes'),
    psnr(metricNames.psnr('skin'), 'PSNR skin'),
    { task, metric: metricNames.leakage(), label: 'Leakage', digits: 4, better: 'lower' },
    { task, metric: metricNames.preservation, label: 'Preservation (dB)', digits: 2, better: 'higher' },
    { task, metric: metricNames.flicker('head'), label: 'Flicker', digits: 4, better: 'lower' },
    { task, metric: metricNames.editStrength, label: 'Edit strength', digits: 3, better: 'higher' },
    { task, metric: metricNames.clipS, label: 'CLIP-S', digits: 3, better: 'higher' },
    { task, metric: metricNames.clipC, label: 'CLIP-C', digits: 3, better: 'higher' },
  ];
  return {
    id: `summary-${task}`,
    title: `${TASK_LABELS[task] ?? task}: PSNR (dB) against the ground-truth edit per region, leakage, preservation, flicker, edit strength, CLIP`,
    columns,
    missingText: 'not computed',
    ...(methods ? { methods } : {}),
  };
}

/** The contrasts issue 14 reports: each (a, b) is read as a − b. */
export const CONTRASTS: readonly (readonly [string, string])[] = [
  ['ours', 'ours-no-wabe'],
  ['ours', 'ours-no-adv'],
  ['ours', 'ga-in2n'],
];

/** Metrics of the paired-difference tables, in column order, with their labels and the better direction. */
export const CONTRAST_METRICS: readonly { metric: string; label: string; better: 'higher' | 'lower' }[] = [
  { metric: metricNames.psnr('image'), label: 'PSNR image', better: 'higher' },
  { metric: metricNames.psnr('head'), label: 'PSNR head', better: 'higher' },
  { metric: metricNames.psnr('mouthInterior'), label: 'PSNR mouth int.', better: 'higher' },
  { metric: metricNames.psnrOpen('mouthInterior'), label: 'PSNR mouth int. (open)', better: 'higher' },
  { metric: metricNames.psnr('eyes'), label: 'PSNR eyes', better: 'higher' },
  { metric: metricNames.psnr('skin'), label: 'PSNR skin', better: 'higher' },
  { metric: metricNames.leakage(), label: 'Leakage', better: 'lower' },
  { metric: metricNames.preservation, label: 'Preservation', better: 'higher' },
  { metric: metricNames.flicker('head'), label: 'Flicker', better: 'lower' },
  { metric: metricNames.editStrength, label: 'Edit strength', better: 'higher' },
  { metric: metricNames.clipS, label: 'CLIP-S', better: 'higher' },
  { metric: metricNames.clipC, label: 'CLIP-C', better: 'higher' },
];

/**
 * The paired row of a − b, whichever way round pairedComparisons computed it: b − a is negated, its interval
 * mirrored (exact: the bootstrap draws the same resamples either way). Null when the two arms share no frames.
 */
export function contrast(paired: readonly PairedRow[], a: string, b: string, task: string, metric: string): PairedRow | null {
  const same = paired.find((r) => r.a === a && r.b === b && r.task === task && r.metric === metric);
  if (same) return same;
  const r = paired.find((x) => x.a === b && x.b === a && x.task === task && x.metric === metric);
  if (!r) return null;
  const neg = (v: number | null) => (v === null ? null : v === 0 ? 0 : -v);
  return { ...r, a, b, mean: neg(r.mean), lo: neg(r.hi), hi: neg(r.lo) };
}

/** One contrast cell: "mean [lo, hi]", with ↑ / ↓ where the interval excludes zero (↑: a is better than b). */
function contrastCell(r: PairedRow | null, better: 'higher' | 'lower', digits: number): string {
  if (!r || r.mean === null) return 'not computed';
  const f = (v: number | null) => (v === null ? '—' : v.toFixed(digits));
  let s = `${f(r.mean)} [${f(r.lo)}, ${f(r.hi)}]`;
  if (r.lo !== null && r.hi !== null && (r.lo > 0 || r.hi < 0)) s += r.lo > 0 === (better === 'higher') ? ' ↑' : ' ↓';
  return s;
}

/**
 * Paired differences of one task as Markdown: one row per contrast (a − b) whose arms both ran, one column per
 * metric, each "mean [95% interval]" over frames and seeds (two-stage bootstrap, lib/experiments/stats.ts). Empty
 * when no contrast has both arms.
 */
export function contrastMarkdown(
  paired: readonly PairedRow[],
  task: string,
  contrasts: readonly (readonly [string, string])[] = CONTRASTS,
  metrics = CONTRAST_METRICS,
  where?: string,
): string {
  const rows = contrasts.filter(([a, b]) => paired.some((r) => r.task === task && ((r.a === a && r.b === b) || (r.a === b && r.b === a))));
  if (rows.length === 0) return '';
  const digits = (m: string) => (m.startsWith('psnr') || m === metricNames.preservation ? 2 : m === metricNames.editStrength || m.startsWith('clip') ? 3 : 4);
  const lines = [
    `**${where ? `${where} — ` : ''}${TASK_LABELS[task] ?? task}: paired differences a − b (same subject, edit, seed and frame), mean [bootstrap 95% interval over runs (subject × edit × seed), then frames]**`,
    '',
    `| a − b | frames (runs) | ${metrics.map((m) => m.label).join(' | ')} |`,
    `| --- | ---: | ${metrics.map(() => '---:').join(' | ')} |`,
  ];
  for (const [a, b] of rows) {
    const cells = metrics.map((m) => contrast(paired, a, b, task, m.metric));
    const n = cells.find((c) => c !== null);
    lines.push(
      `| ${a} − ${b} | ${n ? `${n.n} (${n.clusters})` : '—'} | ${cells.map((c, i) => contrastCell(c, metrics[i]!.better, digits(metrics[i]!.metric))).join(' | ')} |`,
    );
  }
  lines.push(
    '',
    '- ↑: the interval excludes zero and a is better than b on that metric; ↓: b is better; no mark: the interval holds zero (no difference shown).',
    '- Frames: paired frames of the first metric with a value (a metric whose frames are missing in either arm has fewer); runs: the (subject, edit, seed) groups they fall in, which the bootstrap resamples first.',
  );
  return lines.join('\n') + '\n';
}
