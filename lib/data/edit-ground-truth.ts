/**
 * The synthetic dataset as the offline editor's ground truth (lib/edit/offline.ts `EditGroundTruth`): for a
 * view (camera × timestep of the training sequence) and an instruction, the head re-rendered with the
 * original and with the edited texture, and its region labels. Renders are made on demand on the GPU
 * (ground-truth.ts), so no edited images need to be stored with the data.
 */
import type { GpuContext } from '../gpu/device.js';
import type { EditGroundTruth, GroundTruthEdit } from '../edit/offline.js';
import type { EditView } from '../edit/editors/editor.js';
import type { Camera } from '../raster/types.js';
import type { HeadParams } from '../head/pose.js';
import { cameraFromJson, type SequenceName, type SyntheticDataset } from './dataset.js';
import { renderGroundTruth } from './ground-truth.js';

/** The dataset's edit id for an instruction: its prompt (case and spacing ignored) or the id itself. */
export function editIdOf(ds: Pick<SyntheticDataset, 'meta'>, instruction: string): string | null {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');
  const want = norm(instruction);
  const e = ds.meta.edits.find((x) => norm(x.prompt) === want || x.id === instruction.trim());
  return e ? e.id : null;
}

export class DatasetEditGroundTruth implements EditGroundTruth {
  readonly id: string;
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
    return { original: original.rgb, edited: edited.rgb, labels: original.labels };
  }
}
