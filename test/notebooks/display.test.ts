import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { composeGrid } from '../../lib/image/grid.js';
import { FigureExporter, findChromium, NO_CHROMIUM } from '../../lib/report/export.js';
import type { Figure } from '../../lib/report/figures.js';
import { decodePng, rgbImage, type RgbImage } from '../../lib/util/image.js';
import { display, memorySink, NOT_IN_KERNEL, setDisplaySink } from '../../lib/notebook/display.js';
import { closeNotebook, formatCell, showFigure, showImage, showImages, showMarkdown, showTable } from '../../lib/notebook/show.js';

/** A 7×5 image with distinct, 8-bit-exact values per pixel and channel. */
function ramp(w = 7, h = 5): RgbImage {
  const img = rgbImage(w, h);
  for (let p = 0; p < w * h; p++) for (let k = 0; k < 3; k++) img.data[3 * p + k] = ((p * 7 + k * 40) % 256) / 255;
  return img;
}

const png = (b64: unknown) => decodePng(Buffer.from(b64 as string, 'base64'));

let sink: ReturnType<typeof memorySink>;
beforeEach(() => setDisplaySink((sink = memorySink())));
afterEach(() => setDisplaySink(null));

describe('display sink', () => {
  it('outside a tslab kernel and without a sink, displaying is an error that says what to do', () => {
    setDisplaySink(null);
    expect(() => display({ 'text/plain': 'x' })).toThrow(NOT_IN_KERNEL);
  });
});

describe('showImage', () => {
  it('sends one PNG bundle whose pixels are the image (8-bit), opaque', () => {
    const img = ramp();
    showImage(img, { title: 'ramp' });
    expect(sink.outputs).toHaveLength(1);
    const { data, metadata } = sink.outputs[0]!;
    expect(Object.keys(data).sort()).toEqual(['image/png', 'text/plain']);
    expect(data['text/plain']).toBe('ramp <image 7×5>');
    expect(metadata).toEqual({});
    const d = png(data['image/png']);
    expect([d.rgb.width, d.rgb.height]).toEqual([7, 5]);
    for (let i = 0; i < img.data.length; i++) expect(Math.round(d.rgb.data[i]! * 255)).toBe(Math.round(img.data[i]! * 255));
    expect(d.alpha.every((a) => a === 1)).toBe(true);
  });

  it('keeps alpha from { rgb, alpha } and scales the display, not the pixels', () => {
    const img = ramp();
    const alpha = Float32Array.from({ length: 35 }, (_, p) => (p % 5) / 4);
    showImage({ rgb: img, alpha }, { scale: 2 });
    const { data, metadata } = sink.outputs[0]!;
    expect(metadata).toEqual({ 'image/png': { width: 14, height: 10 } });
    const d = png(data['image/png']);
    expect([d.rgb.width, d.rgb.height]).toEqual([7, 5]);
    for (let p = 0; p < 35; p++) expect(Math.round(d.alpha[p]! * 255)).toBe(Math.round(alpha[p]! * 255));
  });

  it('box-filters images wider than maxWidth by an integer factor', () => {
    const img = rgbImage(8, 2);
    for (let x = 0; x < 8; x++) for (let y = 0; y < 2; y++) img.data.fill(x / 7, 3 * (y * 8 + x), 3 * (y * 8 + x) + 3);
    showImage(img, { maxWidth: 3 }); // factor ceil(8/3) = 3: blocks of columns {0,1,2}, {3,4,5}, {6,7}
    const d = png(sink.outputs[0]!.data['image/png']);
    expect([d.rgb.width, d.rgb.height]).toEqual([3, 1]);
    const want = [1 / 7, 4 / 7, 6.5 / 7];
    for (let x = 0; x < 3; x++) expect(Math.round(d.rgb.data[3 * x]! * 255)).toBe(Math.round(want[x]! * 255));
  });

  it('rejects what is not an image, saying why', () => {
    expect(() => showImage({ width: 2, height: 2, data: new Float32Array(5) })).toThrow('showImage: data has 5 values for a 2×2 RGB image');
    expect(() => showImage({ rgb: ramp(), alpha: new Float32Array(3) })).toThrow('showImage: alpha has 3 values for a 7×5 image');
    expect(() => showImage({} as RgbImage)).toThrow('showImage: expected an RgbImage');
  });
});

describe('showImages', () => {
  it('shows exactly the composed grid', () => {
    const spec = { columns: ['a', 'b'], rows: [{ label: 'r0', images: [ramp(), ramp(6, 4)] }, { images: [null, ramp()] }] };
    showImages(spec);
    const grid = composeGrid(spec).image;
    const d = png(sink.outputs[0]!.data['image/png']);
    expect([d.rgb.width, d.rgb.height]).toEqual([grid.width, grid.height]);
    let maxErr = 0;
    for (let i = 0; i < grid.data.length; i++) maxErr = Math.max(maxErr, Math.abs(d.rgb.data[i]! - grid.data[i]!));
    expect(maxErr).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  });
});

describe('showTable', () => {
  it('rows: the union of keys as columns, numbers right-aligned and rounded, HTML escaped, aligned plain text', () => {
    showTable([{ method: 'ours <wabe>', psnr: 31.234567, n: 3 }, { method: 'ga-in2n', psnr: 0.000012345, extra: true }], { caption: 'T & 1' });
    const { data } = sink.outputs[0]!;
    const html = data['text/html'] as string;
    expect(html).toContain('<caption>T &amp; 1</caption>');
    expect(html).toContain('<th style="text-align:left">method</th><th style="text-align:right">psnr</th><th style="text-align:right">n</th><th style="text-align:left">extra</th>');
    expect(html).toContain('<td style="text-align:left">ours &lt;wabe&gt;</td><td style="text-align:right">31.23</td><td style="text-align:right">3</td><td style="text-align:left"></td>');
    expect(html).toContain('<td style="text-align:right">1.234e-5</td>');
    expect(html).not.toContain('<wabe>');
    expect((data['text/plain'] as string).split('\n')).toEqual([
      'T & 1',
      'method           psnr  n  extra',
      '-----------  --------  -  -----',
      'ours <wabe>     31.23  3',
      'ga-in2n      1.234e-5     true',
    ]);
  });

  it('a danfo DataFrame: its columns and values; its index only when it is not 0..n-1', async () => {
    const { DataFrame } = await import('danfojs-node');
    showTable(new DataFrame([{ metric: 'PSNR', value: 30.5 }, { metric: 'SSIM', value: 0.91234 }])); // danfo's own type, no cast
    expect(sink.outputs[0]!.data['text/plain']).toBe(['metric   value', '------  ------', 'PSNR      30.5', 'SSIM    0.9123'].join('\n'));
    showTable(new DataFrame({ v: [1, 2] }, { index: ['a', 'b'] }) as unknown as Parameters<typeof showTable>[0]);
    expect(sink.outputs[1]!.data['text/plain']).toBe(['   v', '-  -', 'a  1', 'b  2'].join('\n'));
  });

  it('caps long tables and says how many rows were left out', () => {
    showTable(Array.from({ length: 5 }, (_, i) => ({ i })), { maxRows: 2 });
    expect(sink.outputs[0]!.data['text/html']).toContain('<p>… 3 more rows</p>');
    expect(() => showTable(42 as never)).toThrow('showTable: expected an array of row objects or a DataFrame');
  });

  it('formats cells', () => {
    expect([formatCell(3), formatCell(-2.5e-7), formatCell(123456.789), formatCell(NaN), formatCell(null), formatCell(Float32Array.of(0.5, 2))]).toEqual(['3', '-2.500e-7', '123500', 'NaN', '', '0.5, 2']);
  });
});

describe('showMarkdown', () => {
  it('sends Markdown with a plain-text copy', () => {
    showMarkdown('**bold**');
    expect(sink.outputs[0]!.data).toEqual({ 'text/markdown': '**bold**', 'text/plain': '**bold**' });
  });
});

describe('showFigure (headless Chromium for the static PNG)', () => {
  afterAll(async () => closeNotebook());
  const fig: Figure = {
    data: [{ type: 'scatter', mode: 'lines', x: [0, 1, 2], y: [0, 1, 4], line: { color: 'black', width: 4 } }],
    layout: { title: { text: 'parabola' }, paper_bgcolor: 'white', plot_bgcolor: 'white' },
  };

  it('one bundle: the Plotly spec (interactive), a PNG of the requested size with ink in it, and a text line', async () => {
    if (!findChromium()) throw new Error(NO_CHROMIUM);
    await showFigure(fig, { width: 300, height: 200, scale: 2 });
    expect(sink.outputs).toHaveLength(1);
    const { data } = sink.outputs[0]!;
    expect(Object.keys(data).sort()).toEqual(['application/vnd.plotly.v1+json', 'image/png', 'text/plain']);
    const spec = data['application/vnd.plotly.v1+json'] as { data: unknown; layout: Record<string, unknown> };
    expect(spec.data).toEqual(fig.data);
    expect(spec.layout).toEqual({ ...fig.layout, height: 200 });
    expect(data['text/plain']).toBe('<figure "parabola": 1 trace>');
    const d = png(data['image/png']);
    expect([d.rgb.width, d.rgb.height]).toEqual([600, 400]);
    let dark = 0;
    for (let p = 0; p < 600 * 400; p++) if (d.rgb.data[3 * p]! + d.rgb.data[3 * p + 1]! + d.rgb.data[3 * p + 2]! < 0.6) dark++;
    expect(dark).toBeGreaterThan(500); // the 4 px line and the title
  });

  it('reuses one Chromium for later figures until closeNotebook(); png: false leaves the PNG out', async () => {
    const launch = vi.spyOn(FigureExporter, 'launch');
    await showFigure(fig, { width: 200, height: 150 });
    await showFigure(fig, { width: 200, height: 150 });
    expect(launch).toHaveBeenCalledTimes(0); // the first test's exporter is still open
    await closeNotebook();
    await showFigure(fig, { width: 200, height: 150 });
    expect(launch).toHaveBeenCalledTimes(1);
    expect(png(sink.outputs[2]!.data['image/png']).rgb.width).toBe(200);
    launch.mockRestore();
    await showFigure(fig, { png: false });
    expect(Object.keys(sink.outputs[3]!.data).sort()).toEqual(['application/vnd.plotly.v1+json', 'text/plain']);
    await expect(showFigure({ data: 'x' } as unknown as Figure)).rejects.toThrow('showFigure: expected a figure spec');
  });
});
