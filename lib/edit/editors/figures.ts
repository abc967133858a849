/**
 * The pictures of docs/editing.md's editor section: each failure mode of the offline stand-in and each control,
 * on the toy face (lib/edit/editors/toy.ts), so they can be remade anywhere without a GPU (`npm run figures:editor`).
 * Every call is an ordinary edit request; the render passed in is the captured image (a well-fitted avatar),
 * except in `controls`, whose render is a deliberately wrong one to show where each editor reads it.
 */
import { composeGrid, type GridRow } from '../../image/grid.js';
import { upscale, type RgbImage } from '../../util/image.js';
import { editRequest, type EditView, type ImageEditor } from './editor.js';
import { ToyGroundTruth } from './toy.js';
import { IdentityEditor, OfflineEditor, OracleEditor, type OfflineEditorOptions } from './offline.js';

export interface EditorFigure {
  /** File stem: docs/images/editor-<name>.png */
  name: string;
  image: RgbImage;
}

const SIZE = 56; // toy image side, px
const ZOOM = 2;
const SEED = 1; // the editor seed of every panel
const STRENGTH = 0.9;
const GOLD = 'turn his teeth gold';
const HAIR = 'give him green hair';
const TATTOO = 'add a tattoo on the left cheek';

/** Every failure mode off but the ones named: each panel shows one mode. */
const OFF: OfflineEditorOptions = {
  seed: SEED,
  occlusion: { paintOccluderRate: 0 },
  cameraBias: { strength: 0, colour: 0 },
  timestepBias: { strength: 0, colour: 0 },
  misplacement: { shift: 0, rotation: 0 },
  texture: { amplitude: 0 },
  jitter: { colour: 0 },
};

export async function editorFigures(): Promise<EditorFigure[]> {
  const gt = new ToyGroundTruth(SIZE, SIZE);
  const view = (camera: number, timestep: number): EditView => ({ subject: 'toy', camera, timestep });
  const zoom = (img: RgbImage) => upscale(img, ZOOM);
  const edit = async (ed: ImageEditor, v: EditView, instruction: string, opts: { seed?: number; image?: RgbImage } = {}) => {
    const original = gt.original(v);
    return zoom(await ed.edit(editRequest({ image: opts.image ?? original, original, instruction, seed: opts.seed ?? 0, strength: STRENGTH, view: v })));
  };
  const truth = async (v: EditView, instruction: string) => zoom((await gt.lookup(v, instruction))!.edited);
  const captured = (v: EditView) => zoom(gt.original(v));
  const grid = (name: string, columns: string[], rows: GridRow[]): EditorFigure => ({
    name,
    image: composeGrid({ columns, rows, fontScale: 1, gap: 3, margin: 4 }).image,
  });
  const figures: EditorFigure[] = [];

  // Controls: a wrong render (another view, its colour channels reversed) shows where each editor reads it.
  {
    const v = view(1, 3);
    const other = gt.original(view(2, 0));
    const wrong: RgbImage = { width: SIZE, height: SIZE, data: other.data.map((_, i) => other.data[i - (i % 3) + 2 - (i % 3)]!) };
    const offline = new OfflineEditor(gt, { seed: SEED });
    const rows: GridRow[] = [];
    for (const instruction of [GOLD, TATTOO]) {
      rows.push({
        images: [
          captured(v),
          zoom(wrong),
          await edit(new IdentityEditor(), v, instruction, { image: wrong }),
          await edit(new OracleEditor(gt), v, instruction, { image: wrong }),
          await edit(new OfflineEditor(gt, { ...OFF, inconsistency: 0 }), v, instruction, { image: wrong }),
          await edit(offline, v, instruction, { image: wrong }),
        ],
      });
    }
    figures.push(grid('controls', ['captured', 'render', 'identity', 'oracle', 'offline s=0', 'offline'], rows));
  }

  // Occlusion: open mouth edited; closed mouth left alone, or its lips painted gold.
  {
    const open = view(1, 3);
    const closed = view(1, 0);
    const paint = new OfflineEditor(gt, { ...OFF, occlusion: { paintOccluderRate: 1 } });
    figures.push(
      grid(
        'occlusion',
        ['open: captured', 'open: edit', 'closed: captured', 'closed: edit', 'closed: painted'],
        [
          {
            images: [
              captured(open),
              await edit(paint, open, GOLD),
              captured(closed),
              await edit(new OfflineEditor(gt, OFF), closed, GOLD),
              await edit(paint, closed, GOLD),
            ],
          },
        ],
      ),
    );
  }

  // Per-camera bias (with the per-call jitter): three cameras, two calls each with different request seeds.
  {
    const ed = new OfflineEditor(gt, { ...OFF, cameraBias: {}, jitter: {} });
    const cams = [0, 1, 2];
    const rows: GridRow[] = [
      { label: 'GT edit', images: await Promise.all(cams.map((c) => truth(view(c, 3), HAIR))) },
      { label: 'call 1', images: await Promise.all(cams.map((c) => edit(ed, view(c, 3), HAIR, { seed: 1 }))) },
      { label: 'call 2', images: await Promise.all(cams.map((c) => edit(ed, view(c, 3), HAIR, { seed: 2 }))) },
    ];
    figures.push(
      grid(
        'camera-bias',
        cams.map((c) => `camera ${c}`),
        rows,
      ),
    );
  }

  // Per-timestep bias: one camera, four timesteps that show the same toy frame.
  {
    const ed = new OfflineEditor(gt, { ...OFF, timestepBias: {} });
    const ts = [3, 4, 5, 6];
    figures.push(
      grid(
        'timestep-bias',
        ts.map((t) => `timestep ${t}`),
        [{ images: await Promise.all(ts.map((t) => edit(ed, view(1, t), HAIR))) }],
      ),
    );
  }

  // Misplacement: the tattoo per view against its ground truth.
  {
    const ed = new OfflineEditor(gt, { ...OFF, misplacement: {} });
    const vs = [view(0, 2), view(1, 2), view(2, 2), view(1, 5)];
    figures.push(
      grid(
        'misplacement',
        vs.map((v) => `cam ${v.camera} t ${v.timestep}`),
        [
          { label: 'GT edit', images: await Promise.all(vs.map((v) => truth(v, TATTOO))) },
          { label: 'offline', images: await Promise.all(vs.map((v) => edit(ed, v, TATTOO))) },
        ],
      ),
    );
  }

  // Texture detail: per view, and what a per-pixel average of eight views keeps.
  {
    const ed = new OfflineEditor(gt, { ...OFF, texture: {} });
    const views = [3, 4, 5, 6, 7, 8, 9, 10].map((t) => view(1, t));
    const edits = await Promise.all(views.map((v) => edit(ed, v, HAIR)));
    const avg: RgbImage = { width: edits[0]!.width, height: edits[0]!.height, data: new Float32Array(edits[0]!.data.length) };
    for (const e of edits) e.data.forEach((x, i) => (avg.data[i]! += x / edits.length));
    figures.push(
      grid(
        'texture',
        ['GT edit', 'view t3', 'view t4', 'view t5', 'mean of 8 views'],
        [{ images: [await truth(views[0]!, HAIR), edits[0]!, edits[1]!, edits[2]!, avg] }],
      ),
    );
  }

  return figures;
}
