/**
 * Where an avatar comes from on disk: a `.ply` file, or a run directory (reconstruction or edit) whose latest
 * checkpoint holds one. One resolver for the CLI, the editing loop, the notebooks and the viewer.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadHeadModel } from '../head/model.js';
import { renderedTriangles } from '../head/atlas.js';
import type { BoundGaussians } from './gaussians.js';
import { readAvatarPly } from './io.js';

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

/** The avatar .ply a path names: the file itself, or a run directory's latest checkpoint's avatar.ply. */
export async function resolveAvatarFile(p: string): Promise<string> {
  const abs = path.resolve(p);
  const st = await fs.stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or directory (expected a run directory or an avatar .ply)`);
  if (st.isFile()) {
    if (!abs.endsWith('.ply')) throw new Error(`${p}: not a .ply file (expected a run directory or an avatar .ply)`);
    return abs;
  }
  const latest = path.join(abs, 'checkpoints', 'latest.json');
  if (await exists(latest)) {
    let dir: string;
    try {
      dir = (JSON.parse(await fs.readFile(latest, 'utf8')) as { dir: string }).dir;
    } catch (e) {
      throw new Error(`${latest}: cannot read (${(e as Error).message})`, { cause: e });
    }
    const ply = path.join(abs, 'checkpoints', dir, 'avatar.ply');
    if (!(await exists(ply))) throw new Error(`${latest}: points at ${ply}, which does not exist`);
    return ply;
  }
  // No latest.json (e.g. copied by hand): the newest step-* folder holding an avatar.ply.
  const steps = (await fs.readdir(path.join(abs, 'checkpoints')).catch(() => [] as string[]))
    .filter((n) => /^step-\d+$/.test(n))
    .sort()
    .reverse();
  for (const s of steps) {
    const ply = path.join(abs, 'checkpoints', s, 'avatar.ply');
    if (await exists(ply)) return ply;
  }
  if (await exists(path.join(abs, 'avatar.ply'))) return path.join(abs, 'avatar.ply');
  throw new Error(`${p}: a directory without checkpoints/*/avatar.ply or avatar.ply (expected a run directory or an avatar .ply)`);
}

/**
 * The avatar a path names (see `resolveAvatarFile`), checked against the ICT-FaceKit head: every rendered
 * triangle keeps a Gaussian unless `mustBeBound` says otherwise (the viewer passes []).
 */
export async function loadAvatar(p: string, mustBeBound?: ArrayLike<number>): Promise<BoundGaussians> {
  const file = await resolveAvatarFile(p);
  const head = await loadHeadModel();
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  return readAvatarPly(new Uint8Array(bytes), file, head.triangleCount, mustBeBound ?? renderedTriangles(head));
}
