/**
 * What notebooks show: images, image grids, Plotly figures (interactive, with a static PNG in the same
 * output for viewers without Plotly: GitHub, nbconvert HTML, a JupyterLab without the plotly extension),
 * tables and Markdown. Every helper builds one MIME bundle and sends it to the display sink (./display.ts).
 */
import { composeGrid, type GridSpec } from '../image/grid.js';
import { FigureExporter, findChromium, NO_CHROMIUM } from '../report/export.js';
import type { Figure } from '../report/figures.js';
import { downsample, encodePng, type RgbImage } from '../util/image.js';
import { display, type MimeBundle } from './display.js';

export interface ImageOptions {
  /** Display size factor (the PNG keeps its pixels; the front end scales it). Default 1. */
  scale?: number;
  /** Images wider than this many pixels are box-filtered down by an integer factor first. Default 1600. */
  maxWidth?: number;
  /** Alt text / plain-text representation. */
  title?: string;
}

function isRgbImage(x: unknown): x is RgbImage {
  const i = x as RgbImage;
  return !!i && typeof i.width === 'number' && typeof i.height === 'number' && i.data instanceof Float32Array;
}

/** The MIME bundle of an image (PNG, with alpha when given) and its display metadata. */
export function imageBundle(
  img: RgbImage | { rgb: RgbImage; alpha?: Float32Array },
  opts: ImageOptions = {},
): { data: MimeBundle; metadata: Record<string, unknown> } {
  let rgb = isRgbImage(img) ? img : img.rgb;
  let alpha = isRgbImage(img) ? undefined : img.alpha;
  if (!isRgbImage(rgb)) throw new Error('showImage: expected an RgbImage ({ width, height, data: Float32Array [H,W,3] }) or { rgb, alpha }');
  if (rgb.data.length !== rgb.width * rgb.height * 3)
    throw new Error(`showImage: data has ${rgb.data.length} values for a ${rgb.width}×${rgb.height} RGB image`);
  if (alpha && alpha.length !== rgb.width * rgb.height) throw new Error(`showImage: alpha has ${alpha.length} values for a ${rgb.width}×${rgb.height} image`);
  const factor = Math.max(1, Math.ceil(rgb.width / (opts.maxWidth ?? 1600)));
  if (factor > 1) {
    if (alpha) {
      const a = alpha;
      const asRgb: RgbImage = { width: rgb.width, height: rgb.height, data: Float32Array.from({ length: a.length * 3 }, (_, i) => a[Math.floor(i / 3)]!) };
      const small = downsample(asRgb, factor);
      alpha = Float32Array.from({ length: small.width * small.height }, (_, p) => small.data[3 * p]!);
    }
    rgb = downsample(rgb, factor);
  }
  const scale = opts.scale ?? 1;
  if (!(scale > 0)) throw new Error(`showImage: scale must be positive, got ${scale}`);
  const text = `${opts.title ? opts.title + ' ' : ''}<image ${rgb.width}×${rgb.height}${alpha ? ' with alpha' : ''}>`;
  return {
    data: { 'image/png': encodePng(rgb, alpha).toString('base64'), 'text/plain': text },
    metadata: scale === 1 ? {} : { 'image/png': { width: Math.round(rgb.width * scale), height: Math.round(rgb.height * scale) } },
  };
}

/** Shows an image (`RgbImage`, or `{ rgb, alpha }` such as a render) as a PNG. */
export function showImage(img: RgbImage | { rgb: RgbImage; alpha?: Float32Array }, opts: ImageOptions = {}): void {
  const b = imageBundle(img, opts);
  display(b.data, b.metadata);
}

/** Shows an image grid (lib/image/grid.ts: titled columns, labelled rows, close-ups). */
export function showImages(spec: GridSpec, opts: ImageOptions = {}): void {
  showImage(composeGrid(spec).image, opts);
}

export interface FigureOptions {
  /** CSS px of the static PNG; the interactive figure takes the cell's width. Default 760. */
  width?: number;
  /** CSS px of both. Default 480. */
  height?: number;
  /** PNG pixel density. Default 1 (small notebooks; raise it for a crisp static copy). */
  scale?: number;
  /** Add the static PNG. Default true. */
  png?: boolean;
}

let exporter: Promise<FigureExporter> | null = null;
let warnedNoChromium = false;

/** One headless Chromium per kernel, started by the first figure and closed by `closeNotebook()` or at exit. */
function staticExporter(): Promise<FigureExporter> {
  if (!exporter) {
    exporter = FigureExporter.launch();
    exporter.catch(() => (exporter = null));
  }
  return exporter;
}

/** The MIME bundle of a figure: Plotly's JSON, a static PNG (when Chromium is there) and a text line. */
export async function figureBundle(fig: Figure, opts: FigureOptions = {}): Promise<MimeBundle> {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== 'object') throw new Error('showFigure: expected a figure spec { data: [...], layout: {...} }');
  const height = opts.height ?? 480;
  const title = (fig.layout.title as { text?: string } | undefined)?.text ?? 'figure';
  const data: MimeBundle = {
    'application/vnd.plotly.v1+json': { data: fig.data, layout: { ...fig.layout, height }, config: { responsive: true, displaylogo: false } },
    'text/plain': `<figure "${title}": ${fig.data.length} trace${fig.data.length === 1 ? '' : 's'}>`,
  };
  if (opts.png ?? true) {
    if (findChromium()) {
      const png = await (await staticExporter()).render(fig, 'png', { width: opts.width ?? 760, height, scale: opts.scale ?? 1 });
      data['image/png'] = png.toString('base64');
    } else if (!warnedNoChromium) {
      warnedNoChromium = true;
      console.warn(`showFigure: no static PNG (${NO_CHROMIUM})`);
    }
  }
  return data;
}

/** Shows a Plotly figure spec: interactive in JupyterLab / VS Code, a PNG elsewhere. */
export async function showFigure(fig: Figure, opts: FigureOptions = {}): Promise<void> {
  display(await figureBundle(fig, opts));
}

/** Closes the figure exporter's Chromium (the kernel's exit closes it too). */
export async function closeNotebook(): Promise<void> {
  const ex = exporter;
  exporter = null;
  if (ex) await (await ex.catch(() => null))?.close();
}

/** What `showTable` accepts besides rows: a danfo DataFrame, or anything shaped like one. */
export interface DataFrameLike {
  columns: string[];
  /** One array per row; a danfo DataFrame of one column may give bare values, taken as one-cell rows. */
  values: readonly unknown[];
  index?: readonly (string | number)[];
}

export interface TableOptions {
  /** Significant digits of non-integer numbers. Default 4. */
  digits?: number;
  caption?: string;
  /** Rows shown (the rest are counted). Default 200. */
  maxRows?: number;
  /** Show the DataFrame's index as the first column. Default false for rows, true for DataFrames with a non-default index. */
  index?: boolean;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function formatCell(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(digits))) : v.toExponential(digits - 1);
  }
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return String(v);
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Array.from(v as ArrayLike<unknown>, (x) => formatCell(x, digits)).join(', ');
  return JSON.stringify(v);
}

function isDataFrameLike(x: unknown): x is DataFrameLike {
  const d = x as DataFrameLike;
  return !!d && !Array.isArray(d) && Array.isArray(d.columns) && Array.isArray(d.values);
}

/** Header and string cells of a table (rows or a DataFrame). */
export function tableCells(t: DataFrameLike | Record<string, unknown>[], opts: TableOptions = {}): { header: string[]; rows: string[][]; more: number } {
  const digits = opts.digits ?? 4;
  const max = opts.maxRows ?? 200;
  let header: string[];
  let rows: unknown[][];
  if (isDataFrameLike(t)) {
    const idx = t.index ?? [];
    const defaultIndex = idx.every((v, i) => v === i);
    const withIndex = opts.index ?? !defaultIndex;
    header = withIndex ? ['', ...t.columns] : [...t.columns];
    rows = t.values.map((v, i) => {
      const r = Array.isArray(v) ? (v as unknown[]) : [v];
      return withIndex ? [idx[i], ...r] : r;
    });
  } else if (Array.isArray(t)) {
    header = [];
    for (const r of t) for (const k of Object.keys(r)) if (!header.includes(k)) header.push(k);
    rows = t.map((r) => header.map((k) => r[k]));
  } else {
    throw new Error('showTable: expected an array of row objects or a DataFrame ({ columns, values })');
  }
  return { header, rows: rows.slice(0, max).map((r) => r.map((v) => formatCell(v, digits))), more: Math.max(0, rows.length - max) };
}

/** The MIME bundle of a table: HTML and aligned plain text. */
export function tableBundle(t: DataFrameLike | Record<string, unknown>[], opts: TableOptions = {}): MimeBundle {
  const { header, rows, more } = tableCells(t, opts);
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => r[j] === '' || /^[-+]?(\d|\.\d|NaN|Infinity)/.test(r[j]!)));
  const align = (j: number) => (numeric[j] ? ' style="text-align:right"' : ' style="text-align:left"');
  const html = [
    '<table class="gae-table">',
    opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '',
    `<thead><tr>${header.map((h, j) => `<th${align(j)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, j) => `<td${align(j)}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
    more ? `<p>… ${more} more row${more === 1 ? '' : 's'}</p>` : '',
  ].join('');
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  const text = [opts.caption ?? '', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), more ? `… ${more} more` : '']
    .filter((l) => l !== '')
    .join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/** Shows a table of row objects or a danfo DataFrame. */
export function showTable(t: DataFrameLike | Record<string, unknown>[], opts: TableOptions = {}): void {
  display(tableBundle(t, opts));
}

/** Shows Markdown (computed text: a run's summary, a list of files). */
export function showMarkdown(md: string): void {
  display({ 'text/markdown': md, 'text/plain': md });
}
