/**
 * Ground truth for any frame of a synthetic dataset, original or edited: re-renders the head from the
 * frame's stored head parameters and camera with the dataset's texture (or its edited version) and render
 * settings. The dataset writer renders its images through the same path, so an unedited ground truth
 * equals the stored image up to 8-bit quantisation. Callers (the offline 2D editor, the evaluation) never
 * touch textures.
 */
import type { GpuContext } from '../gpu/device.js';
import type { HeadModel } from '../head/model.js';
import { loadHeadModel } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import { GpuHeadPoser } from '../head/gpu-pose.js';
import { makeHeadTexture, type HeadTexture } from '../head/texture.js';
import { editSpec, type EditId } from '../head/edits.js';
import { renderMesh, releaseHeadTexture, type MeshRender, type Shading } from '../head/render.js';
import type { Camera } from '../raster/types.js';
import type { DatasetJson, SyntheticDataset } from './dataset.js';

export interface RenderSettings {
  supersample: number;
  background: [number, number, number];
  shading: Shading;
}

export function renderSettingsOf(meta: Pick<DatasetJson, 'render'>): RenderSettings {
  const r = meta.render;
  return {
    supersample: r.supersample,
    background: [r.background[0]!, r.background[1]!, r.background[2]!],
    shading: {
      ambient: r.shading.ambient,
      diffuse: r.shading.diffuse,
      lightDir: [r.shading.light_dir[0]!, r.shading.light_dir[1]!, r.shading.light_dir[2]!],
      occlusion: r.shading.occlusion,
    },
  };
}

const posers = new WeakMap<GPUDevice, Map<HeadModel, GpuHeadPoser>>();

/** Posed meshes of `frames` on the GPU (one poser, with its 23 MB basis, per device and model). */
export async function poseFrames(ctx: GpuContext, model: HeadModel, frames: HeadParams[]): Promise<Float32Array[]> {
  let m = posers.get(ctx.device);
  if (!m) posers.set(ctx.device, (m = new Map()));
  let p = m.get(model);
  if (!p) m.set(model, (p = new GpuHeadPoser(ctx, model)));
  const n = model.vertexCount * 3;
  const out: Float32Array[] = [];
  for (let i = 0; i < frames.length; i += 64) {
    const batch = frames.slice(i, i + 64);
    const v = await p.pose(batch);
    for (let f = 0; f < batch.length; f++) out.push(v.slice(f * n, (f + 1) * n));
  }
  return out;
}

/** Textures by (model, seed, tile size, edit); a few are kept (each is 4S × 3S × 5 bytes). */
const textures: { key: string; model: HeadModel; tex: HeadTexture }[] = [];
const MAX_TEXTURES = 8;

export function subjectTexture(model: HeadModel, seed: number, tileSize: number, edit: EditId | null): HeadTexture {
  const key = `${seed}|${tileSize}|${edit ?? ''}`;
  const i = textures.findIndex((t) => t.key === key && t.model === model);
  if (i >= 0) {
    const [hit] = textures.splice(i, 1);
    textures.push(hit!);
    return hit!.tex;
  }
  const tex = makeHeadTexture(model, { seed, tileSize, edit });
  textures.push({ key, model, tex });
  if (textures.length > MAX_TEXTURES) releaseHeadTexture(textures.shift()!.tex);
  return tex;
}

/** Renders posed vertices with a dataset's settings (the writer's and the ground truth's common path). */
export function renderPosed(ctx: GpuContext, verts: Float32Array, camera: Camera, tex: HeadTexture, settings: RenderSettings): Promise<MeshRender> {
  return renderMesh(ctx, verts, camera, tex, { supersample: settings.supersample, background: settings.background, shading: settings.shading });
}

/**
 * The image a camera would see for `frame` (any frame of any split, or any { camera, head }) with the
 * original texture (`editId` null) or an edited one: { rgb, alpha, depth, labels }.
 */
export async function renderGroundTruth(
  ctx: GpuContext,
  dataset: Pick<SyntheticDataset, 'meta'>,
  frame: { camera: Camera; head: HeadParams },
  editId: string | null,
): Promise<MeshRender> {
  if (editId !== null) editSpec(editId);
  const model = await loadHeadModel();
  const m = dataset.meta;
  const tex = subjectTexture(model, m.texture_seed, m.texture_tile_size, editId as EditId | null);
  return renderPosed(ctx, await posedOnce(ctx, model, frame.head), frame.camera, tex, renderSettingsOf(m));
}

/**
 * The last few poses, by the head parameters' values (a snapshot of them, so a caller that edits a HeadParams
 * in place gets a fresh pose): the offline editor renders each view twice (original and edited texture) with
 * the same head, so the second render skips a GPU pose and its readback.
 */
const recentPoses: { device: GPUDevice; model: HeadModel; key: Float64Array; verts: Promise<Float32Array> }[] = [];
const RECENT_POSES = 4;

function headKey(h: HeadParams): Float64Array {
  return Float64Array.from([...h.identity, ...h.expression, ...h.jaw, ...h.neck, ...h.translation, h.identity.length, h.expression.length]);
}

function sameKey(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function posedOnce(ctx: GpuContext, model: HeadModel, head: HeadParams): Promise<Float32Array> {
  const key = headKey(head);
  const hit = recentPoses.find((e) => e.model === model && e.device === ctx.device && sameKey(e.key, key));
  if (hit) return hit.verts;
  const verts = poseFrames(ctx, model, [head]).then((v) => v[0]!);
  verts.catch(() => {
    const i = recentPoses.findIndex((e) => e.verts === verts);
    if (i >= 0) recentPoses.splice(i, 1);
  });
  recentPoses.push({ device: ctx.device, model, key, verts });
  if (recentPoses.length > RECENT_POSES) recentPoses.shift();
  return verts;
}
