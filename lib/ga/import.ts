/**
 * Import of a GaussianAvatars subject (`gae import-ga`, lib/cli/ga.ts): checks the subject folder against the
 * user's FLAME model (every camera, image and parameter file; errors name the file and the field) and writes
 * `ga-subject.json` (index-file.ts).
 */
import * as path from 'node:path';
import type { LipRings } from '../head/flame/teeth.js';

export interface ImportGaOptions {
  flame: string;
  cross?: string;
  masks?: string;
  out?: string;
  checkFiles?: boolean;
  /** Lip rings for a FLAME-format model that is not FLAME's own topology (test fixtures); not a CLI option. */
  lipRings?: LipRings;
}

/** The import itself (also called by the notebook and the tests); returns the index file written. */
export async function importGa(subjectDir: string, o: ImportGaOptions, log: (l: string) => void = () => {}): Promise<string> {
  const { loadFlame } = await import('../head/flame/model.js');
  const { FlameHead } = await import('../head/flame/head.js');
  const { loadFlameMasks } = await import('../head/flame/regions.js');
  const { loadGaSubject } = await import('./subject.js');
  const { gaIndex, writeGaIndex } = await import('./index-file.js');
  const model = await loadFlame(o.flame, { lipRings: o.lipRings });
  const subject = await loadGaSubject(subjectDir, model, { cross: o.cross, checkFiles: o.checkFiles });
  const masks = o.masks ? await loadFlameMasks(o.masks) : undefined;
  const head = new FlameHead(model, { staticOffset: subject.staticOffset, masks, lipRings: o.lipRings });
  const out = path.resolve(o.out ?? path.join(subject.dir, 'gae'), 'ga-subject.json');
  const index = gaIndex(
    subject,
    { flame: model.file, vertex_count: head.vertexCount, triangle_count: head.triangleCount, region_source: head.regionSource },
    o.cross,
  );
  await writeGaIndex(out, index);
  for (const [name, s] of Object.entries(subject.splits))
    log(
      `${name}: ${s!.frames.length} frames (${new Set(s!.frames.map((f) => f.cameraIndex)).size} cameras, ${new Set(s!.frames.map((f) => f.timestep)).size} timesteps)`,
    );
  log(`FLAME: ${head.vertexCount} vertices, ${head.triangleCount} triangles (with teeth); regions from ${head.regionSource}`);
  log(`wrote ${out}`);
  return out;
}
