/**
 * The synthetic dataset as the offline editor's ground truth (lib/edit/editors/offline.ts `EditGroundTruth`): for a
 * view (camera × timestep of the training sequence) and an instruction, the head re-rendered with the
 * original and with the edited texture, and its region labels. Renders are made on demand on the GPU
 * (ground-truth.ts), so no edited images need to be stored with the data.
 */
import type { GpuContext } from '../../gpu/device.js';
import type { EditGroundTruth, EditTarget, GroundTruthEdit, Rgb } from './offline.js';
import type { EditView } from './editor.js';
import type { Camera } from '../../raster/types.js';
import type { HeadParams } from '../../head/pose.js';
import { cameraFromJson, type SequenceName, type SyntheticDataset } from '../../data/dataset.js';
import { renderGroundTruth, subjectTexture } from '../../data/ground-truth.js';
import { loadHeadModel } from '../../head/model.js';
import { editSpec, type EditId } from '../../head/edits.js';

/** The dataset's edit id for an instruction: its prompt (case and spacing ignored) or the id itself. */
export function editIdOf(ds: Pick<SyntheticDataset, 'meta'>, instruction: string): string | null {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');
  const want = norm(instruction);
  const e = ds.meta.edits.find((x) => norm(x.prompt) === want || x.id === instruction.trim());
  return e ? e.id : null;
}

/**
 * An edit's target in texture space: its regions, the mean edited albedo over the texels it changes, and the
 * mean original albedo per region (the offline editor paints a hidden target's colour onto its occluder).
 */
export function editTargetOf(ds: Pick<SyntheticDataset, 'meta'>, editId: EditId, model: Parameters<typeof subjectTexture>[0]): EditTarget {
  const m = ds.meta;
  const before = subjectTexture(model, m.texture_seed, m.texture_tile_size, null);
  const after = subjectTexture(model, m.texture_seed, m.texture_tile_size, editId);
  const edited = [0, 0, 0];
  let n = 0;
  const sums = new Map<number, { rgb: number[]; n: number }>();
  for (let p = 0; p < before.labels.length; p++) {
    const r = before.labels[p]!;
    let acc = sums.get(r);
    if (!acc) sums.set(r, (acc = { rgb: [0, 0, 0], n: 0 }));
    acc.n++;
    let changed = false;
    for (let c = 0; c < 3; c++) {
      acc.rgb[c]! += before.albedo[4 * p + c]! / 255;
      if (after.albedo[4 * p + c] !== before.albedo[4 * p + c]) changed = true;
    }
    if (!changed) continue;
    n++;
    for (let c = 0; c < 3; c++) edited[c]! += after.albedo[4 * p + c]! / 255;
  }
  if (n === 0) throw new Error(`edit "${editId}" changes no texel of texture seed ${m.texture_seed}`);
  const albedo: Partial<Record<number, Rgb>> = {};
  for (const [r, a] of sums) albedo[r] = [a.rgb[0]! / a.n, a.rgb[1]! / a.n, a.rgb[2]! / a.n];
  return { regions: editSpec(editId).regions, colour: [edited[0]! / n, edited[1]! / n, edited[2]! / n], albedo };
}

export class DatasetEditGroundTruth implements EditGroundTruth {
  readonly id: string;
  private readonly targets = new Map<string, EditTarget>();
  constructor(
    private readonly ctx: GpuContext,
    readonly dataset: SyntheticDataset,
    /** Which sequence a view's timestep indexes (the editing loop edits the training sequence). */
    readonly sequence: SequenceName = 'train',
  ) {
    const m = dataset.meta;
    this.id = `synthetic:${m.subject}:${m.preset}:seed${m.seed}:tex${m.texture_seed}:${sequence}`;
  }

  /** The camera and head pose of a view, or an error naming what is missing. */
  frameOf(view: EditView): { camera: Camera; head: HeadParams } {
    const m = this.dataset.meta;
    if (view.subject !== m.subject) throw new Error(`${this.dataset.dir}/dataset.json: subject is "${m.subject}", the edit asks for "${view.subject}"`);
    const cam = m.cameras.find((c) => c.camera_index === view.camera);
    if (!cam) throw new Error(`${this.dataset.dir}/dataset.json: cameras: no camera_index ${view.camera}`);
    const split = Object.values(this.dataset.splits).find((s) => s.sequence === this.sequence);
    const ts = split?.timesteps.find((t) => t.index === view.timestep);
    if (!split || !ts) throw new Error(`${this.dataset.dir}: the ${this.sequence} sequence has no timestep ${view.timestep}`);
    return { camera: cameraFromJson(cam), head: ts.head };
  }

  async lookup(view: EditView, instruction: string): Promise<GroundTruthEdit | null> {
    const editId = editIdOf(this.dataset, instruction);
    if (!editId) return null;
    const frame = this.frameOf(view);
    const original = await renderGroundTruth(this.ctx, this.dataset, frame, null);
    const edited = await renderGroundTruth(this.ctx, this.dataset, frame, editId);
    let target = this.targets.get(editId);
    if (!target) this.targets.set(editId, (target = editTargetOf(this.dataset, editId as EditId, await loadHeadModel())));
    return { original: original.rgb, edited: edited.rgb, labels: original.labels, target };
  }
}
