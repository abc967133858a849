/**
 * The ICT-FaceKit head model (MIT, USC ICT; see data/ict-facekit/README.md): loads the compact binaries
 * described by `model.json`, gzip-compressed (`*.gz`) or raw, and checks every file's size against it.
 *
 * World frame: the model's own, in metres: x toward the subject's left (the viewer's right when facing
 * the face), y up, z out of the face (the nose points to +z). Right-handed. The origin is the source's
 * (roughly the centre of the head, a little below the eyes).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { libDir } from '../util/lib-dir.js';

export const MATERIALS = [
  'M_Face',
  'M_BackHead',
  'M_GumsTongue',
  'M_Teeth',
  'M_ScleraLeft',
  'M_IrisLeft',
  'M_ScleraRight',
  'M_IrisRight',
  'M_LacrimalFluid',
  'M_EyeBlend',
  'M_EyeOcclusion',
  'M_EyeLashes',
] as const;
export type MaterialName = (typeof MATERIALS)[number];
export const Material = Object.fromEntries(MATERIALS.map((m, i) => [m, i])) as Record<MaterialName, number>;

export const N_IDENTITY = 20;
export const N_EXPRESSION = 53;

export interface HeadModel {
  dir: string;
  vertexCount: number; // V
  triangleCount: number; // T
  uvCount: number;
  neutral: Float32Array; // [V,3] metres
  faces: Uint32Array; // [T,3] vertex indices
  faceMaterial: Uint8Array; // [T] index into MATERIALS
  uvs: Float32Array; // [UV,2] source texture coordinates (UDIM-like: material tiles at u ∈ [k, k+1))
  faceUvs: Uint32Array; // [T,3] uv indices per corner
  expressions: Float32Array; // [53,V,3] offsets from neutral, metres
  identities: Float32Array; // [20,V,3] offsets from neutral, metres
  expressionNames: string[]; // [53] ARKit names (jawOpen, eyeBlink_L, ...)
  identityNames: string[]; // [20]
  materials: string[];
}

const modelJsonSchema = z.object({
  vertex_count: z.number().int().positive(),
  triangle_count: z.number().int().positive(),
  uv_count: z.number().int().positive(),
  files: z.record(z.string(), z.string()),
  materials: z.array(z.string()),
  expressions: z.array(z.string()).length(N_EXPRESSION),
  identities: z.array(z.string()).length(N_IDENTITY),
});

/**
 * The data/ict-facekit folder of this checkout: $GAE_HEAD_MODEL_DIR if set, else next to this module's
 * repository, else (e.g. in a bundle, where the module's URL is the bundle's) under the working directory.
 */
export function defaultModelDir(): string {
  if (process.env.GAE_HEAD_MODEL_DIR) return process.env.GAE_HEAD_MODEL_DIR;
  try {
    const dir = path.resolve(libDir(), '../data/ict-facekit');
    if (existsSync(path.join(dir, 'model.json'))) return dir;
  } catch {
    // not a file: URL (browser bundle); fall through
  }
  return path.resolve('data/ict-facekit');
}

const BYTES: Record<string, number> = { float32: 4, uint32: 4, uint8: 1 };

/** Expected byte size of a file from its model.json description, e.g. "float32 [53,V,3] ...". */
function expectedBytes(desc: string, dims: Record<string, number>, file: string): number {
  const m = /^(float32|uint32|uint8)\s*\[([^\]]+)\]/.exec(desc);
  if (!m) throw new Error(`model.json: files.${file}: cannot parse dtype/shape from "${desc}"`);
  let n = BYTES[m[1]!]!;
  for (const d of m[2]!.split(',').map((s) => s.trim())) {
    const v = /^\d+$/.test(d) ? Number(d) : dims[d];
    if (v === undefined) throw new Error(`model.json: files.${file}: unknown dimension "${d}"`);
    n *= v;
  }
  return n;
}

async function readMaybeGz(dir: string, file: string): Promise<{ bytes: Buffer; shown: string }> {
  const raw = path.join(dir, file);
  const gz = raw + '.gz';
  try {
    const b = await fs.readFile(gz);
    try {
      return { bytes: gunzipSync(b), shown: gz };
    } catch (e) {
      throw new Error(`${gz}: corrupt or truncated gzip data (${(e as Error).message})`, { cause: e });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    return { bytes: await fs.readFile(raw), shown: raw };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${raw}(.gz): missing head model file`, { cause: e });
    throw e;
  }
}

/** Copies into a fresh, aligned typed array (Buffers from the pool may be unaligned). */
function typed<T extends Float32Array | Uint32Array | Uint8Array>(b: Buffer, ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }): T {
  const out = new ctor(b.byteLength / ctor.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(b);
  return out;
}

const cache = new Map<string, Promise<HeadModel>>();

/**
 * Loads the head model from `dir` (default: the repository's data/ict-facekit), once per directory.
 * A missing, truncated or oversized file is an error naming the file and its expected and actual size.
 */
export function loadHeadModel(dir: string = defaultModelDir()): Promise<HeadModel> {
  const key = path.resolve(dir);
  let p = cache.get(key);
  if (!p) {
    p = readModel(key);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

async function readModel(dir: string): Promise<HeadModel> {
  const jsonFile = path.join(dir, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(jsonFile, 'utf8'));
  } catch (e) {
    throw new Error(`${jsonFile}: cannot read head model description (${(e as Error).message})`, { cause: e });
  }
  const parsed = modelJsonSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${jsonFile}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const mj = parsed.data;
  const dims = { V: mj.vertex_count, T: mj.triangle_count, UV: mj.uv_count };
  const need = ['neutral.f32', 'faces.u32', 'face_material.u8', 'uvs.f32', 'face_uvs.u32', 'expressions.f32', 'identities.f32'];
  const loaded: Record<string, Buffer> = {};
  for (const f of need) {
    const desc = mj.files[f];
    if (!desc) throw new Error(`${jsonFile}: files.${f}: missing description`);
    const want = expectedBytes(desc, dims, f);
    const { bytes, shown } = await readMaybeGz(dir, f);
    if (bytes.byteLength !== want) {
      throw new Error(`${shown}: expected ${want} bytes (${desc}), got ${bytes.byteLength}${bytes.byteLength < want ? ' (truncated)' : ''}`);
    }
    loaded[f] = bytes;
  }
  const model: HeadModel = {
    dir,
    vertexCount: mj.vertex_count,
    triangleCount: mj.triangle_count,
    uvCount: mj.uv_count,
    neutral: typed(loaded['neutral.f32']!, Float32Array),
    faces: typed(loaded['faces.u32']!, Uint32Array),
    faceMaterial: typed(loaded['face_material.u8']!, Uint8Array),
    uvs: typed(loaded['uvs.f32']!, Float32Array),
    faceUvs: typed(loaded['face_uvs.u32']!, Uint32Array),
    expressions: typed(loaded['expressions.f32']!, Float32Array),
    identities: typed(loaded['identities.f32']!, Float32Array),
    expressionNames: mj.expressions,
    identityNames: mj.identities,
    materials: mj.materials,
  };
  validateIndices(model, dir);
  return model;
}

function validateIndices(m: HeadModel, dir: string): void {
  for (let i = 0; i < m.faces.length; i++) {
    if (m.faces[i]! >= m.vertexCount) throw new Error(`${path.join(dir, 'faces.u32')}: index ${i} = ${m.faces[i]} ≥ vertex_count ${m.vertexCount}`);
    if (m.faceUvs[i]! >= m.uvCount) throw new Error(`${path.join(dir, 'face_uvs.u32')}: index ${i} = ${m.faceUvs[i]} ≥ uv_count ${m.uvCount}`);
  }
  for (let t = 0; t < m.triangleCount; t++) {
    if (m.faceMaterial[t]! >= m.materials.length)
      throw new Error(`${path.join(dir, 'face_material.u8')}: triangle ${t}: material ${m.faceMaterial[t]} out of range`);
  }
  MATERIALS.forEach((name, i) => {
    if (m.materials[i] !== name) throw new Error(`${path.join(dir, 'model.json')}: materials[${i}]: expected ${name}, got ${m.materials[i]}`);
  });
}

/** Index of a named expression blendshape ("jawOpen", "eyeBlink_L", ...). */
export function expressionIndex(model: Pick<HeadModel, 'expressionNames'>, name: string): number {
  const i = model.expressionNames.indexOf(name);
  if (i < 0) throw new Error(`unknown expression blendshape "${name}"`);
  return i;
}
