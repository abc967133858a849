/**
 * Static export of Plotly figures to PNG, SVG and PDF in headless Chromium (Debian's `chromium`, driven by
 * playwright-core). Plotly is loaded from node_modules into a blank local page: no network is used.
 * PNG and SVG come from Plotly.toImage; PDF is Chromium's print of the SVG (vector, text kept as text).
 */
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { resolveFromLib } from '../util/lib-dir.js';
import type { Figure } from './figures.js';

export type FigureFormat = 'png' | 'svg' | 'pdf';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** The Chromium binary: $GAE_CHROMIUM, else Debian's /usr/bin/chromium, else chromium-browser; undefined if none. */
export function findChromium(): string | undefined {
  const candidates = [process.env.GAE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p));
}

export const NO_CHROMIUM = 'figure export needs Chromium: apt-get install -y chromium (or scripts/setup.sh --full), or set GAE_CHROMIUM to a Chromium binary';

export interface ExportOptions {
  width?: number; // CSS px, default 800
  height?: number; // CSS px, default 500
  /** PNG pixel density (PNG size = width·scale × height·scale). Default 2. */
  scale?: number;
}

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

export class FigureExporter {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async launch(executablePath = findChromium()): Promise<FigureExporter> {
    if (!executablePath) throw new Error(NO_CHROMIUM);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    try {
      const context = await browser.newContext();
      // Nothing may leave the machine: every request but inline data is refused.
      await context.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
      const page = await context.newPage();
      await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0"><div id="fig"></div></body></html>');
      const plotly = resolveFromLib('plotly.js-dist-min');
      await page.addScriptTag({ path: plotly });
      return new FigureExporter(browser, page);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  /** Renders the figure and returns the file's bytes. */
  async render(fig: Figure, format: FigureFormat, opts: ExportOptions = {}): Promise<Buffer> {
    const width = opts.width ?? 800;
    const height = opts.height ?? 500;
    const scale = opts.scale ?? 2;
    const url = await this.page.evaluate(
      async ({ fig, fmt, width, height, scale }) => {
        type PlotlyFn = (...args: unknown[]) => Promise<unknown>;
        const P = (globalThis as unknown as { Plotly: { newPlot: PlotlyFn; toImage: PlotlyFn; purge: PlotlyFn } }).Plotly;
        // globalThis: lib/ also compiles without the DOM lib (tslab).
        type El = { remove(): void };
        const doc = (globalThis as unknown as { document: { getElementById(id: string): { appendChild(e: El): void }; createElement(t: string): El } })
          .document;
        // A fresh element per figure (a reused one writes the SVG root's attributes in another order), and a fixed
        // uid per trace (Plotly otherwise draws a random one into each trace's class): the same bytes every time.
        const el = doc.createElement('div');
        doc.getElementById('fig').appendChild(el);
        try {
          const data = (fig.data as Record<string, unknown>[]).map((d, i) => ({ uid: `t${i}`, ...d }));
          await P.newPlot(el, data, { ...fig.layout, width, height }, { staticPlot: true });
          return (await P.toImage(el, { format: fmt, width, height, scale: fmt === 'png' ? scale : 1 })) as string;
        } finally {
          P.purge(el);
          el.remove();
        }
      },
      { fig, fmt: format === 'png' ? 'png' : 'svg', width, height, scale },
    );
    if (format === 'png') return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
    // Plotly names its clip paths and defs after a random per-plot uid: fixed here, so an export is byte-reproducible.
    // Only where the uid is part of an id (after a letter or '-', before a letter, quote or ')'), never in numbers.
    let svg = decodeURIComponent(url.slice(url.indexOf(',') + 1));
    const uid = /id="defs-([0-9a-f]+)"/.exec(svg)?.[1];
    if (uid) svg = svg.replace(new RegExp(`(?<=[A-Za-z-])${uid}(?=[A-Za-z"')])`, 'g'), 'gae0');
    if (format === 'svg') return Buffer.from(svg, 'utf8');
    const pdfPage = await this.page.context().newPage();
    try {
      await pdfPage.setContent(
        `<!doctype html><html><head><meta charset="utf-8"><style>@page{size:${width}px ${height}px;margin:0}html,body{margin:0}</style></head><body>${svg}</body></html>`,
      );
      return await pdfPage.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: '1' });
    } finally {
      await pdfPage.close();
    }
  }

  async export(fig: Figure, file: string, format: FigureFormat = file.split('.').pop() as FigureFormat, opts: ExportOptions = {}): Promise<void> {
    if (!['png', 'svg', 'pdf'].includes(format)) throw new Error(`${file}: unknown figure format '${format}' (png, svg or pdf)`);
    await writeFileAtomic(file, await this.render(fig, format, opts));
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Exports one figure in several formats (file = base path + '.' + format). Returns the files written. */
export async function exportFigure(
  fig: Figure,
  basePath: string,
  formats: FigureFormat[] = ['png', 'svg', 'pdf'],
  opts: ExportOptions = {},
): Promise<string[]> {
  const ex = await FigureExporter.launch();
  try {
    const files: string[] = [];
    for (const f of formats) {
      await ex.export(fig, `${basePath}.${f}`, f, opts);
      files.push(`${basePath}.${f}`);
    }
    return files;
  } finally {
    await ex.close();
  }
}
