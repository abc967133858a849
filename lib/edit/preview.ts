/**
 * What the 2D editor does to a few views before any optimisation: for each view, the render of the unedited
 * avatar (the editor's input), the captured image (its conditioning), the editor's output and the ground-truth
 * edit. The requests are exactly those of the editing loop's initial pass (same seeds, same denoise strengths,
 * same renders, same cache), so previewing costs nothing extra: the loop then finds these edits in the cache.
 */
import type { DatasetFrame } from '../data/dataset.js';
import { loadFrameImages } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import { mouthBox } from '../data/views.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { prepareRasterize } from '../raster/rasterize.js';
import { rasterSettings } from '../raster/types.js';
import type { GridSpec } from '../image/grid.js';
import { AvatarSession } from '../avatar/session.js';
import { stratifiedIndices } from '../data/sampling.js';
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';
import { CachedEditor } from './editors/cache.js';
import { strengthRangeOf, type EditConfig } from './config.js';
import { sampleStrength, type ImageEditor } from './editors/editor.js';
import { loadAvatar } from '../avatar/load.js';
import { editedRenderSettings, editSeed, editViews, makeEditor, renderAvatar, viewEditRequest } from './loop.js';

export interface EditPreview {
  frame: DatasetFrame;
  /** Index of the view in the edited dataset (`editViews`). */
  view: number;
  /** The unedited avatar as the loop renders it for the editor (its blending: `editedRenderSettings`). */
  render: RgbImage;
  captured: RgbImage;
  edit: RgbImage;
  groundTruth: RgbImage;
  /** Region ids of the view ([H,W], lib/head/regions.ts), from the ground-truth renderer. */
  labels: Uint8Array;
  strength: number;
  seed: number;
}

export interface PreviewOptions {
  /** Views of the edited dataset to preview (indices into `editViews`); default `count` of them stratified over cameras × timesteps. */
  views?: number[];
  /** Default 3. */
  count?: number;
  /** Replaces the config's editor (it is still wrapped in the config's cache). */
  editor?: ImageEditor;
}

export async function previewEdits(config: EditConfig, opts: PreviewOptions = {}): Promise<EditPreview[]> {
  const ctx = await useTfjsWebGpu();
  const session = await AvatarSession.open(config.data, await loadAvatar(config.avatar));
  try {
    const views = editViews(session, config);
    const picked = opts.views ?? stratifiedIndices(views, opts.count ?? 3, config.seed);
    for (const v of picked)
      if (!(Number.isInteger(v) && v >= 0 && v < views.length))
        throw new Error(`previewEdits: views: ${v} is not a view of the edited dataset (0..${views.length - 1})`);
    const editor = new CachedEditor(opts.editor ?? makeEditor(config, ctx, session), config.editor.cacheDir);
    const shown = editedRenderSettings(
      config,
      rasterSettings({ shDegree: session.avatar.shDegree, background: session.background({ background: null }), blend: 'alpha' }),
    );
    await prepareRasterize(shown);
    // The loop's initial pass draws one strength per view, in view order, from Rng(seed).
    const rng = new Rng(config.seed);
    const strengths = Array.from({ length: Math.max(-1, ...picked) + 1 }, () => sampleStrength(rng, strengthRangeOf(config)));
    const out: EditPreview[] = [];
    for (const v of picked) {
      const frame = views[v]!;
      const render = await renderAvatar(session.avatar, session.boundFramesOf(frame), frame, shown);
      const captured = (await loadFrameImages(frame)).rgb;
      const seed = editSeed(config.seed, v);
      const req = viewEditRequest(config, session.dataset.meta.subject, frame, render, captured, seed, strengths[v]!);
      const edit = await editor.edit(req);
      const gt = await renderGroundTruth(ctx, session.dataset, frame, config.edit.id);
      out.push({ frame, view: v, render, captured, edit, groundTruth: gt.rgb, labels: gt.labels, strength: strengths[v]!, seed });
    }
    return out;
  } finally {
    session.dispose();
  }
}

/** The previews as a grid: render | captured | 2D edit | GT edit, one row per view, with mouth close-ups. */
export function previewGrid(previews: EditPreview[], opts: { mouth?: boolean } = {}): GridSpec {
  return {
    columns: ['render', 'captured', '2D edit', 'GT edit'],
    rows: previews.map((p) => {
      const box = (opts.mouth ?? true) ? mouthBox(p.labels, p.render.width, p.render.height) : null;
      return {
        label: `t${p.frame.timestep} ${p.frame.cameraId} s=${p.strength.toFixed(2)}`,
        images: [p.render, p.captured, p.edit, p.groundTruth],
        ...(box ? { crop: box } : {}),
      };
    }),
  };
}
