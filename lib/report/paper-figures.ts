/**
 * The paper's figures and tables, rebuilt from committed results only: the Table 1 grid (results/table1, through
 * the report's content, ./report.ts, so that the two agree),
 * the full-preset reconstruction (results/recon) and the GPU benchmarks (results/bench). `buildPaperFigures`
 * makes the specs (Plotly figures, image grids, Markdown/LaTeX tables) so a notebook can show them;
 * `writePaperFigures` writes them into one folder (figures as JSON specs plus PNG/SVG where Chromium is
 * installed, grids as PNG, tables as .md and .tex).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { TASKS } from '../experiments/config.js';
import { metricNames } from '../metrics/names.js';
import { comparisonSeed, methodComparison } from './compare.js';
import { FigureExporter, findChromium, NO_CHROMIUM, type FigureFormat } from './export.js';
import { metricBars, readMetricsJsonl, trainingCurves, type Figure } from './figures.js';
import { writeGridPng, type GridSpec } from '../image/grid.js';
import { TASK_LABELS } from './paper.js';
import { buildTable, gtEditSpec, mouthOpenSpec, summarySpec, toLatex, toMarkdown } from './table.js';
import { buildReport } from './report.js';

export interface PaperSources {
  /** A grid directory (Table 1). */
  table1: string;
  /** Folder with full-h100-metrics.jsonl and full-h100-eval-step*.json. */
  recon: string;
  /** Folder with raster-*.json, avatar-*.json, train-step-*.json. */
  bench: string;
  /** Row order of the method tables and columns of the comparisons; default the grid's arms in its config's order. */
  methods?: string[];
  subject?: string;
  /** Seed of the side-by-side grids; default the seed whose cells saved the most evaluation frames. */
  seed?: number;
  /** Downsampling factor of the side-by-side grids (notebook displays); default 1. */
  downsample?: number;
}

export interface PaperTable {
  markdown: string;
  latex?: string;
}

export interface PaperFigureSet {
  figures: Record<string, Figure>;
  grids: Record<string, GridSpec>;
  tables: Record<string, PaperTable>;
  notes: string[];
}

const regionScore = z.object({ psnr: z.number(), ssim: z.number() });
const reconEvalSchema = z.object({
  step: z.number(),
  gaussians: z.number().optional(),
  splits: z.array(z.object({ task: z.string(), frames: z.number(), psnr: z.number(), ssim: z.number(), regions: z.record(z.string(), regionScore) })),
});

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

const num = (v: number, d: number) => v.toFixed(d);
const mdTable = (header: string[], rows: string[][], right: boolean[]) =>
  [`| ${header.join(' | ')} |`, `| ${right.map((r) => (r ? '---:' : '---')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';

/** The reconstruction table (results/recon/README.md's): PSNR/SSIM per task and PSNR per region. */
export function reconTable(file: string, regions: string[] = ['head', 'mouthInterior', 'eyes', 'skin', 'lips']): PaperTable {
  const e = readJson(file, reconEvalSchema);
  const header = ['task', 'frames', 'PSNR (dB)', 'SSIM', ...regions.map((r) => `PSNR ${r}`)];
  const rows = e.splits.map((s) => [
    TASK_LABELS[s.task] ?? s.task,
    String(s.frames),
    num(s.psnr, 2),
    num(s.ssim, 4),
    ...regions.map((r) => (s.regions[r] ? num(s.regions[r]!.psnr, 2) : '—')),
  ]);
  const title = `**Reconstruction (step ${e.step}${e.gaussians ? `, ${e.gaussians.toLocaleString('en-US')} Gaussians` : ''}): PSNR/SSIM against held-out ground truth**\n\n`;
  return {
    markdown:
      title +
      mdTable(
        header,
        rows,
        header.map((_, i) => i > 0),
      ),
  };
}

const rasterSchema = z.object({
  adapterLine: z.string().optional(),
  results: z.array(
    z.object({ scene: z.string(), mode: z.string(), forwardMs: z.number(), forwardBackwardMs: z.number(), gpuForwardBackwardMs: z.number().optional() }),
  ),
});
const avatarSchema = z.object({
  gaussians: z.number(),
  resolution: z.tuple([z.number(), z.number()]),
  fps: z.number(),
  frameMs: z.object({ median: z.number() }),
  stagesMs: z.record(z.string(), z.number()),
});
const trainStepSchema = z.object({ gaussians: z.number(), resolution: z.tuple([z.number(), z.number()]), medianMs: z.record(z.string(), z.number()) });

function benchFile(dir: string, prefix: string): string | null {
  const f = path.join(dir, `${prefix}-nvidia.json`);
  return existsSync(f) ? f : null;
}

/** Rasterizer timings (median ms of forward and forward+backward per scene and Dawn mode). */
export function rasterBenchTable(file: string): PaperTable {
  const b = readJson(file, rasterSchema);
  const rows = b.results.map((r) => [
    r.scene,
    r.mode,
    num(r.forwardMs, 2),
    num(r.forwardBackwardMs, 2),
    r.gpuForwardBackwardMs === undefined ? '—' : num(r.gpuForwardBackwardMs, 2),
  ]);
  const title = `**Rasterizer, median ms per frame${b.adapterLine ? ` (${b.adapterLine})` : ''}: Gaussians@resolution**\n\n`;
  return { markdown: title + mdTable(['scene', 'Dawn mode', 'forward', 'forward + backward', 'GPU fwd + bwd'], rows, [false, false, true, true, true]) };
}

/** Horizontal bars of named stage timings (ms), e.g. the avatar frame's GPU stages or a training step's parts. */
export function stageBars(stages: Record<string, number>, title: string): Figure {
  const names = Object.keys(stages);
  return {
    data: [{ type: 'bar', orientation: 'h', y: names, x: names.map((n) => stages[n]), hovertemplate: '%{y}: %{x:.3f} ms<extra></extra>' }],
    layout: {
      title: { text: title },
      font: { family: 'DejaVu Sans, Arial, sans-serif', size: 13 },
      xaxis: { title: { text: 'ms' } },
      yaxis: { automargin: true, autorange: 'reversed' },
      margin: { l: 160, r: 20, t: 80, b: 50 },
      paper_bgcolor: 'white',
      plot_bgcolor: 'white',
    },
  };
}

export async function buildPaperFigures(src: PaperSources): Promise<PaperFigureSet> {
  const out: PaperFigureSet = { figures: {}, grids: {}, tables: {}, notes: [] };
  const subject = src.subject ?? 'alice';

  // Table 1 (lib/report/report.ts buildReport): per task the summary table (PSNR per region against the GT edit,
  // leakage, preservation, flicker, edit strength, CLIP) and the paired differences, PSNR/SSIM per region, the
  // mouth-open table; bars, paired-difference bars, sweeps nested in the grid, D curves; the edits side by side.
  // A grid from before a metric existed gives a note in place of its table column or figure, not an error.
  const rep = await buildReport(src.table1);
  const grid = rep.results;
  const methods = (src.methods ?? rep.methods).filter((m) => grid.cells.some((c) => c.method === m));
  const tasks = rep.tasks;
  const metrics = new Set(grid.rows.map((r) => r.metric));
  for (const task of tasks) {
    const s = buildTable(grid.table, summarySpec(task, methods), grid.paired);
    out.tables[`table1-summary-${task}`] = { markdown: toMarkdown(s), latex: toLatex(s) };
    if (rep.contrasts[task]) out.tables[`table1-paired-${task}`] = { markdown: rep.contrasts[task]! };
  }
  for (const task of TASKS) {
    const t = buildTable(grid.table, gtEditSpec(task, ['head', 'mouthInterior', 'lips', 'skin', 'eyes'], methods), grid.paired);
    out.tables[`table1-gt-edit-${task}`] = { markdown: toMarkdown(t), latex: toLatex(t) };
  }
  const open = buildTable(grid.table, mouthOpenSpec(TASKS, methods), grid.paired);
  out.tables['table1-mouth-open'] = { markdown: toMarkdown(open), latex: toLatex(open) };
  for (const s of rep.sweeps) out.tables[`sweep-${s.name}`] = { markdown: s.markdown };
  const bars: [string, string, string][] = [
    ['table1-psnr-head', metricNames.psnr('head'), 'PSNR head vs GT edit (dB)'],
    ['table1-psnr-mouth-interior', metricNames.psnr('mouthInterior'), 'PSNR mouth interior vs GT edit (dB)'],
    ['table1-psnr-open-mouth-interior', metricNames.psnrOpen('mouthInterior'), 'PSNR mouth interior, mouth-open frames (dB)'],
    ['table1-leakage', metricNames.leakage(), 'Leakage onto neighbouring regions (lower is better)'],
    ['table1-preservation', metricNames.preservation, 'Preservation of unedited regions (dB)'],
    ['table1-edit-strength', metricNames.editStrength, 'Edit strength (1 = the full GT edit)'],
  ];
  for (const [name, metric, title] of bars) {
    if (!grid.table.some((r) => r.metric === metric && r.mean !== null)) {
      out.notes.push(`${src.table1}: no cell reported ${metric} (a grid from before it was measured?): no ${name} figure`);
      continue;
    }
    out.figures[name] = metricBars(grid.table, { metric, title, methods, tasks: [...TASKS].filter((t) => tasks.includes(t)) });
  }
  // A selection of the report's figures (all of them are in <grid>/report/figures): the paired differences and
  // sweeps of the mouth on mouth-open frames, leakage and edit strength, D(real)/D(fake), the mouth update norms.
  const PAPER =
    /^(paired-(psnrOpen-mouthInterior|leakage-all|editStrength)|sweep-.*-(psnrOpen-mouthInterior|leakage-all|discriminator)|adversary-ours|mouth-update-norms)$/;
  for (const [name, fig] of Object.entries(rep.figures)) {
    if (PAPER.test(name)) out.figures[name.startsWith('sweep-') ? name : `table1-${name}`] = fig;
  }
  if (!metrics.has(metricNames.leakage()) && !grid.paired.length)
    out.notes.push(`${src.table1}: an older grid: no leakage/preservation/edit-strength metrics and no per-frame scores (paired differences)`);
  const edits = [...new Set(grid.cells.map((c) => c.edit))].sort();
  for (const edit of edits) {
    // Self-reenactment frames with mouth close-ups, at the seed whose cells saved the most evaluation frames.
    const done = grid.cells.filter((c) => c.status === 'done' && c.subject === subject && c.edit === edit);
    const ms = methods.filter((m) => done.some((c) => c.method === m));
    const seed = src.seed ?? comparisonSeed(src.table1, { subject, edit, methods: ms, seeds: [...new Set(done.map((c) => c.seed))] });
    try {
      const cmp = await methodComparison(src.table1, {
        subject,
        edit,
        seed,
        methods: ms,
        split: 'test',
        ...(src.downsample ? { downsample: src.downsample } : {}),
      });
      out.grids[`table1-${edit}`] = cmp.spec;
      if (cmp.missing.length) out.notes.push(`table1-${edit} (seed ${seed}): grey columns: ${cmp.missing.join('; ')}`);
    } catch (e) {
      out.notes.push(`table1-${edit}: no side-by-side grid (${(e as Error).message})`);
    }
  }
  out.notes.push(...rep.notes.filter((n) => !/grey tiles/.test(n)));

  // Reconstruction: the table and the training curve.
  const evals = existsSync(src.recon)
    ? readdirSync(src.recon)
        .filter((f) => /^full-.*-eval-step\d+\.json$/.test(f))
        .sort()
    : [];
  if (evals.length) out.tables['recon'] = reconTable(path.join(src.recon, evals[evals.length - 1]!));
  else out.notes.push(`${src.recon}: no full-*-eval-step*.json: no reconstruction table`);
  const curve = path.join(src.recon, 'full-h100-metrics.jsonl');
  if (existsSync(curve))
    out.figures['recon-training'] = trainingCurves(readMetricsJsonl(curve), {
      keys: ['loss', 'l1', 'dssim'],
      title: 'Reconstruction (full preset, H100)',
      yLabel: 'loss',
      logY: true,
    });
  else out.notes.push(`${curve}: missing: no reconstruction curve`);

  // Speed.
  const raster = benchFile(src.bench, 'raster');
  if (raster) out.tables['bench-raster'] = rasterBenchTable(raster);
  const avatar = benchFile(src.bench, 'avatar');
  if (avatar) {
    const a = readJson(avatar, avatarSchema);
    out.figures['bench-avatar-stages'] = stageBars(
      a.stagesMs,
      `Avatar frame: GPU stages<br><sub>${a.gaussians} Gaussians at ${a.resolution.join('×')}; ${a.fps.toFixed(0)} fps, ${a.frameMs.median.toFixed(2)} ms per frame (median)</sub>`,
    );
  }
  const step = benchFile(src.bench, 'train-step');
  if (step) {
    const s = readJson(step, trainStepSchema);
    out.figures['bench-train-step'] = stageBars(
      s.medianMs,
      `Training step: median ms per part<br><sub>${s.gaussians} Gaussians at ${s.resolution.join('×')}</sub>`,
    );
  }
  for (const [k, f] of [
    ['raster', raster],
    ['avatar', avatar],
    ['train-step', step],
  ] as const)
    if (!f) out.notes.push(`${src.bench}: no ${k}-nvidia.json`);
  return out;
}

/**
 * Writes a figure set into `outDir`: <name>.json (Plotly spec) and <name>.<format> per figure (when Chromium is
 * installed; otherwise a note says so), <name>.png per grid, <name>.md / .tex per table, and index.md.
 */
export async function writePaperFigures(
  set: PaperFigureSet,
  outDir: string,
  opts: { formats?: FigureFormat[]; onProgress?: (m: string) => void } = {},
): Promise<{ files: string[]; notes: string[] }> {
  const files: string[] = [];
  const notes = [...set.notes];
  const formats = opts.formats ?? ['png', 'svg'];
  for (const [name, fig] of Object.entries(set.figures)) {
    const f = path.join(outDir, `${name}.json`);
    await writeJsonAtomic(f, fig);
    files.push(f);
  }
  if (formats.length && Object.keys(set.figures).length) {
    if (!findChromium()) notes.push(`figures written as Plotly specs only: ${NO_CHROMIUM}`);
    else {
      const ex = await FigureExporter.launch();
      try {
        for (const [name, fig] of Object.entries(set.figures)) {
          for (const fmt of formats) {
            const f = path.join(outDir, `${name}.${fmt}`);
            await ex.export(fig, f, fmt);
            files.push(f);
          }
          opts.onProgress?.(`figure ${name}`);
        }
      } finally {
        await ex.close();
      }
    }
  }
  for (const [name, spec] of Object.entries(set.grids)) {
    const f = path.join(outDir, `${name}.png`);
    await writeGridPng(spec, f);
    files.push(f);
    opts.onProgress?.(`grid ${name}`);
  }
  for (const [name, t] of Object.entries(set.tables)) {
    const md = path.join(outDir, `${name}.md`);
    await writeFileAtomic(md, t.markdown);
    files.push(md);
    if (t.latex) {
      const tex = path.join(outDir, `${name}.tex`);
      await writeFileAtomic(tex, t.latex);
      files.push(tex);
    }
  }
  const index = [
    '# Paper figures and tables',
    '',
    'Regenerated from committed results only (results/table1, results/recon, results/bench) by `notebooks/05-figures.ipynb` (lib/report/paper-figures.ts).',
    '',
    ...Object.keys(set.tables).map((n) => `- table \`${n}.md\``),
    ...Object.keys(set.figures).map((n) => `- figure \`${n}\` (${[...(findChromium() ? formats : []), 'json'].join(', ')})`),
    ...Object.keys(set.grids).map((n) => `- image grid \`${n}.png\``),
    '',
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  const idx = path.join(outDir, 'index.md');
  await writeFileAtomic(idx, index);
  files.push(idx);
  return { files, notes };
}
