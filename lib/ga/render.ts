/**
 * Reenactment renders of a GaussianAvatars avatar: its point_cloud.ply on the user's FLAME, driven by a split
 * of its subject (train, val, test = self-reenactment, cross = another subject's performance), from one
 * camera, through the real-time path (lib/avatar/reenact.ts), written as GIF (and MP4 with ffmpeg).
 */
import { renderSequence, frontalCamera } from '../avatar/reenact.js';
import { exportAnimation, type AnimationResult } from '../image/animation.js';
import { rasterSettings } from '../raster/types.js';
import { loadFlame } from '../head/flame/model.js';
import { FlameHead } from '../head/flame/head.js';
import type { LipRings } from '../head/flame/teeth.js';
import { getGpu } from '../gpu/index.js';
import { readGaAvatar } from './avatar.js';
import { loadGaSubject, GA_SPLITS, type GaSplitName } from './subject.js';

export interface RenderGaOptions {
  flame: string;
  subject: string;
  split: GaSplitName;
  cross?: string;
  /** Camera index; default the split's most frontal camera. */
  camera?: number;
  background?: [number, number, number];
  fps?: number;
  out: string; // path without extension
  lipRings?: LipRings; // a FLAME-format model of another topology (stand-ins)
  formats?: ('gif' | 'mp4')[];
}

export async function renderGa(avatarFile: string, o: RenderGaOptions): Promise<AnimationResult & { frames: number }> {
  if (!(GA_SPLITS as readonly string[]).includes(o.split)) throw new Error(`--split: '${o.split}' is not one of ${GA_SPLITS.join(', ')}`);
  if (o.split === 'cross' && !o.cross) throw new Error('--split cross needs --cross <other subject>');
  const model = await loadFlame(o.flame, { lipRings: o.lipRings });
  const subject = await loadGaSubject(o.subject, model, { cross: o.cross, checkFiles: false });
  const head = new FlameHead(model, { staticOffset: subject.staticOffset, lipRings: o.lipRings });
  const g = await readGaAvatar(avatarFile, head.triangleCount);
  const frames = subject.splits[o.split]!.frames;
  const pick = o.camera !== undefined ? frames.find((f) => f.cameraIndex === o.camera) : frontalCamera(frames);
  if (!pick) throw new Error(`--camera: ${o.camera} is not a camera of ${subject.splits[o.split]!.file}`);
  const seq = frames.filter((f) => f.cameraIndex === pick.cameraIndex).sort((a, b) => a.timestep - b.timestep);
  const settings = rasterSettings({ shDegree: g.shDegree, background: o.background ?? [1, 1, 1] });
  const ctx = await getGpu();
  const images = await renderSequence(
    ctx,
    head,
    g,
    seq.map((f) => subject.flame.get(f.flameParamPath)!),
    pick.camera,
    settings,
  );
  const res = await exportAnimation(o.out, images, { fps: o.fps ?? 8, ...(o.formats ? { formats: o.formats } : {}) });
  return { ...res, frames: images.length };
}
