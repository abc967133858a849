/**
 * `ga-subject.json`: what `gae import-ga` writes after checking a GaussianAvatars subject: every frame's
 * camera in our contract (fx, fy, cx, cy, w, h, row-major OpenCV `world_to_camera`), its image, timestep
 * and camera index, and every timestep's FLAME parameters, so later steps need neither the transforms
 * files' conventions nor numpy. Images and the FLAME model stay where they are (their licences forbid
 * copying them around).
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { stringifyCompact } from '../data/dataset.js';
import type { GaSubject } from './subject.js';

export const GA_INDEX_FORMAT = 'gae-ga-subject';
export const GA_INDEX_VERSION = 1;

export interface GaIndexHead {
  flame: string; // the FLAME pickle
  vertex_count: number;
  triangle_count: number;
  region_source: string;
}

export function gaIndex(s: GaSubject, head: GaIndexHead, cross?: string): Record<string, unknown> {
  const splits: Record<string, unknown> = {};
  for (const [name, split] of Object.entries(s.splits)) {
    if (!split) continue;
    splits[name] = {
      file: split.file,
      frames: split.frames.map((f) => ({
        ...(f.image ? { file_path: f.image } : {}),
        timestep_index: f.timestep,
        camera_index: f.cameraIndex,
        flame_param_path: f.flameParamPath,
        fx: f.camera.fx,
        fy: f.camera.fy,
        cx: f.camera.cx,
        cy: f.camera.cy,
        w: f.camera.width,
        h: f.camera.height,
        world_to_camera: Array.from(f.camera.worldToCamera),
      })),
    };
  }
  const flame: Record<string, unknown> = {};
  for (const [p, v] of s.flame) {
    flame[p] = {
      shape: Array.from(v.shape),
      expr: Array.from(v.expr),
      rotation: v.rotation,
      neck: v.neck,
      jaw: v.jaw,
      eyes: v.eyes,
      translation: v.translation,
    };
  }
  return {
    format: GA_INDEX_FORMAT,
    version: GA_INDEX_VERSION,
    subject: s.name,
    source_dir: s.dir,
    ...(cross ? { cross_subject: path.resolve(cross) } : {}),
    head,
    static_offset_file: s.staticOffsetFile ?? null,
    world: { units: 'metres', axes: "FLAME's: y up, z out of the face; cameras OpenCV (x right, y down, z forward)" },
    splits,
    flame_params: flame,
  };
}

export async function writeGaIndex(file: string, index: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(file, stringifyCompact(index) + '\n');
}
