import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FigureExporter, findChromium, NO_CHROMIUM } from '../../lib/report/export.js';
import { figureHtml, metricBars } from '../../lib/report/figures.js';
import { decodePng } from '../../lib/util/image.js';

// Figure export needs Debian's chromium (scripts/setup.sh --full). Without it this suite fails, saying so.
const fig = metricBars(
  [
    { method: 'ours', task: 'novel-view', metric: 'clipS', mean: 0.27, ci95: 0.01, n: 3, sd: 0.004, cells: 3 },
    { method: 'ga-in2n', task: 'novel-view', metric: 'clipS', mean: 0.22, ci95: 0.02, n: 3, sd: 0.008, cells: 3 },
    { method: 'ours', task: 'self-reenactment', metric: 'clipS', mean: 0.08, ci95: 0.01, n: 3, sd: 0.004, cells: 3 },
    { method: 'ga-in2n', task: 'self-reenactment', metric: 'clipS', mean: 0.05, ci95: 0.01, n: 3, sd: 0.004, cells: 3 },
  ],
  { metric: 'clipS', title: 'CLIP-S' },
);

describe('figure export (headless Chromium)', () => {
  let ex: FigureExporter;
  let dir: string;
  beforeAll(async () => {
    if (!findChromium()) throw new Error(NO_CHROMIUM);
    ex = await FigureExporter.launch();
    dir = await mkdtemp(path.join(tmpdir(), 'gae-fig-'));
  });
  afterAll(async () => ex?.close());

  it('PNG: decodes at width·scale × height·scale and is not blank', async () => {
    await ex.export(fig, path.join(dir, 'bars.png'), 'png', { width: 420, height: 300, scale: 2 });
    const png = decodePng(await readFile(path.join(dir, 'bars.png'))).rgb;
    expect([png.width, png.height]).toEqual([840, 600]);
    let ink = 0;
    const colours = new Set<string>();
    for (let p = 0; p < png.width * png.height; p++) {
      const [r, g, b] = [png.data[3 * p]!, png.data[3 * p + 1]!, png.data[3 * p + 2]!];
      if (r + g + b < 2.9) ink++;
      colours.add(`${Math.round(r * 15)},${Math.round(g * 15)},${Math.round(b * 15)}`);
    }
    expect(ink / (png.width * png.height)).toBeGreaterThan(0.03);
    expect(colours.size).toBeGreaterThan(4); // two bar colours, text, grid, background
  });

  it('SVG: parses as XML and names the traces', async () => {
    await ex.export(fig, path.join(dir, 'bars.svg'));
    const svg = await readFile(path.join(dir, 'bars.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    // Parsed by a real XML parser (the browser's), which reports errors as a <parsererror> document.
    const parsed = await ex['page'].evaluate((s: string) => {
      const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
      return { error: doc.getElementsByTagName('parsererror').length, root: doc.documentElement.nodeName, width: doc.documentElement.getAttribute('width') };
    }, svg);
    expect(parsed).toEqual({ error: 0, root: 'svg', width: '800' });
    expect(svg).toContain('Novel view');
    expect(svg).toContain('Self-reenactment');
    expect(svg).toContain('CLIP-S');
    // Byte-reproducible: Plotly's random per-plot uid is replaced in every id, so a second export is identical.
    await ex.export(fig, path.join(dir, 'bars-again.svg'));
    expect(await readFile(path.join(dir, 'bars-again.svg'), 'utf8')).toBe(svg);
    expect(svg).toContain('id="defs-gae0"');
  });

  it('PDF: starts with %PDF and has exactly one page', async () => {
    await ex.export(fig, path.join(dir, 'bars.pdf'));
    const pdf = await readFile(path.join(dir, 'bars.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdf.toString('latin1');
    expect(text.match(/\/Type\s*\/Page[^s]/g)?.length).toBe(1);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('inline HTML (notebooks) draws the figure in a page with no network', async () => {
    const html = await figureHtml(fig, { id: 'nb-fig', includePlotly: true, width: 300, height: 200 });
    const page = await ex['page'].context().newPage();
    try {
      await page.setContent(`<!doctype html><html><body>${html}</body></html>`);
      const bars = await page.evaluate(() => document.querySelectorAll('#nb-fig .barlayer .point').length);
      expect(bars).toBe(4); // two methods × two tasks
      expect(await page.evaluate(() => document.querySelector('#nb-fig .gtitle')?.textContent)).toBe('CLIP-S');
    } finally {
      await page.close();
    }
  });
});
