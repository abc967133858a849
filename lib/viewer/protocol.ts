/**
 * What the viewer's server and page exchange besides the binary bundles (model-format.ts): the routes
 * and the JSON bodies, typed once for both sides.
 */
import type { Camera } from '../raster/types.js';

export const ROUTES = {
  page: '/',
  script: '/viewer.js',
  info: '/info.json',
  head: '/head.bin',
  avatar: (which: AvatarSlot) => `/avatar/${which}.bin`,
  sequence: '/sequence.json',
  license: '/LICENSE-ict-facekit.txt',
} as const;

export type AvatarSlot = 'original' | 'edited';

/** Head parameters as plain JSON (the dataset's `head` objects). */
export interface HeadParamsJson {
  identity: number[]; // [20]
  expression: number[]; // [53]
  jaw: number[]; // [3] axis-angle, radians
  neck: number[]; // [3] axis-angle, radians
  translation: number[]; // [3] metres
}

export interface SequenceJson {
  /** Where it came from, e.g. "data/synthetic/alice/transforms_test.json" or "synthetic (seed 1)". */
  source: string;
  fps: number;
  frames: HeadParamsJson[];
}

export interface ViewerInfo {
  avatars: Partial<Record<AvatarSlot, { source: string; count: number; shDegree: number }>>;
  sequence: { source: string; frames: number; fps: number } | null;
  /** Canvas size in pixels. */
  width: number;
  height: number;
}

/** Everything the page used for its last frame, for tests that re-render it in Node. */
export interface FrameSnapshot {
  params: HeadParamsJson;
  camera: Omit<Camera, 'worldToCamera'> & { worldToCamera: number[] };
  blend: 'alpha' | 'wabe';
  avatar: AvatarSlot;
  shDegree: number;
  background: [number, number, number];
}
