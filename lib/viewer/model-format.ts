/**
 * The viewer's wire format: a compact binary of named typed arrays plus a JSON header, used to ship the
 * head model and avatars from the node server to the page in one request each (no .ply or gzip parsing in
 * the browser, no per-file requests for the head model's seven arrays).
 *
 *   bytes 0..7   magic "GAEVIEW1"
 *   bytes 8..11  header length L (u32, little-endian)
 *   bytes 12..   header: UTF-8 JSON { kind, meta, arrays: [{ name, dtype, length, offset }] }, padded to 4
 *   then         each array's raw little-endian bytes at `offset` (from the start of the data block),
 *                aligned to 4 bytes, so the page views them without copying
 *
 * Pure TypeScript (no Node or DOM APIs), shared by the server and the page.
 */
import type { BoundGaussians } from '../avatar/gaussians.js';
import type { HeadModel } from '../head/model.js';
import { N_EXPRESSION, N_IDENTITY } from '../head/model.js';
import { shCoeffs, type ShDegree } from '../raster/types.js';

const MAGIC = 'GAEVIEW1';

type Dtype = 'f32' | 'u32' | 'i32' | 'u8';
type Typed = Float32Array | Uint32Array | Int32Array | Uint8Array;
const CTORS = { f32: Float32Array, u32: Uint32Array, i32: Int32Array, u8: Uint8Array } as const;

function dtypeOf(a: Typed): Dtype {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

interface ArrayEntry {
  name: string;
  dtype: Dtype;
  length: number; // elements
  offset: number; // bytes from the start of the data block
}

export interface Bundle<M> {
  kind: string;
  meta: M;
  arrays: Record<string, Typed>;
}

const align4 = (n: number) => (n + 3) & ~3;

export function encodeBundle(kind: string, meta: unknown, arrays: Record<string, Typed>): Uint8Array {
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, dtype: dtypeOf(a), length: a.length, offset });
    offset = align4(offset + a.byteLength);
  }
  const header = new TextEncoder().encode(JSON.stringify({ kind, meta, arrays: entries }));
  const headLen = align4(header.byteLength);
  const out = new Uint8Array(12 + headLen + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headLen, true);
  out.set(header, 12);
  out.fill(0x20, 12 + header.byteLength, 12 + headLen); // JSON-safe padding (spaces)
  const data = 12 + headLen;
  for (const e of entries) {
    const a = arrays[e.name]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), data + e.offset);
  }
  return out;
}

/** Decodes a bundle; `name` (URL or file) and `kind` go into every error message. */
export function decodeBundle<M>(bytes: Uint8Array, name: string, kind: string): Bundle<M> {
  const bad = (why: string) => new Error(`${name}: not a viewer ${kind} bundle (${why})`);
  if (bytes.byteLength < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = dv.getUint32(8, true);
  if (12 + headLen > bytes.byteLength) throw bad(`header of ${headLen} bytes is truncated`);
  let header: { kind: string; meta: M; arrays: ArrayEntry[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headLen)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (header.kind !== kind) throw bad(`kind is "${header.kind}"`);
  // Copy into an aligned buffer once if the view is not 4-byte aligned (typed views need alignment).
  const base = (bytes.byteOffset + 12 + headLen) % 4 === 0 ? bytes : bytes.slice();
  const data = base.byteOffset + 12 + headLen;
  const arrays: Record<string, Typed> = {};
  for (const e of header.arrays) {
    const ctor = CTORS[e.dtype];
    if (!ctor) throw bad(`array ${e.name}: unknown dtype ${e.dtype}`);
    const end = 12 + headLen + e.offset + e.length * ctor.BYTES_PER_ELEMENT;
    if (end > bytes.byteLength) throw bad(`array ${e.name} is truncated (needs ${end} bytes, have ${bytes.byteLength})`);
    arrays[e.name] = new ctor(base.buffer, data + e.offset, e.length);
  }
  return { kind: header.kind, meta: header.meta, arrays };
}

// ---------------------------------------------------------------------------------------------------
// Head model.

interface HeadMeta {
  dir: string;
  vertexCount: number;
  triangleCount: number;
  uvCount: number;
  expressionNames: string[];
  identityNames: string[];
  materials: string[];
}

export function encodeHeadModel(m: HeadModel): Uint8Array {
  const meta: HeadMeta = {
    dir: m.dir,
    vertexCount: m.vertexCount,
    triangleCount: m.triangleCount,
    uvCount: m.uvCount,
    expressionNames: m.expressionNames,
    identityNames: m.identityNames,
    materials: m.materials,
  };
  return encodeBundle('head', meta, {
    neutral: m.neutral,
    faces: m.faces,
    faceMaterial: m.faceMaterial,
    uvs: m.uvs,
    faceUvs: m.faceUvs,
    expressions: m.expressions,
    identities: m.identities,
  });
}

export function decodeHeadModel(bytes: Uint8Array, name: string): HeadModel {
  const { meta: h, arrays: a } = decodeBundle<HeadMeta>(bytes, name, 'head');
  const V = h.vertexCount,
    T = h.triangleCount;
  const want: Record<string, [Dtype, number]> = {
    neutral: ['f32', V * 3],
    faces: ['u32', T * 3],
    faceMaterial: ['u8', T],
    uvs: ['f32', h.uvCount * 2],
    faceUvs: ['u32', T * 3],
    expressions: ['f32', N_EXPRESSION * V * 3],
    identities: ['f32', N_IDENTITY * V * 3],
  };
  for (const [k, [dtype, n]] of Object.entries(want)) {
    const arr = a[k];
    if (!arr || dtypeOf(arr) !== dtype || arr.length !== n)
      throw new Error(`${name}: head array ${k}: expected ${dtype}[${n}], got ${arr ? `${dtypeOf(arr)}[${arr.length}]` : 'none'}`);
  }
  return {
    dir: h.dir,
    vertexCount: V,
    triangleCount: T,
    uvCount: h.uvCount,
    neutral: a.neutral as Float32Array,
    faces: a.faces as Uint32Array,
    faceMaterial: a.faceMaterial as Uint8Array,
    uvs: a.uvs as Float32Array,
    faceUvs: a.faceUvs as Uint32Array,
    expressions: a.expressions as Float32Array,
    identities: a.identities as Float32Array,
    expressionNames: h.expressionNames,
    identityNames: h.identityNames,
    materials: h.materials,
  };
}

// ---------------------------------------------------------------------------------------------------
// Avatar.

export interface AvatarMeta {
  /** Where the server read it (shown on the page). */
  source: string;
  count: number;
  shDegree: ShDegree;
}

export function encodeAvatar(g: BoundGaussians, source: string): Uint8Array {
  const meta: AvatarMeta = { source, count: g.count, shDegree: g.shDegree };
  return encodeBundle('avatar', meta, {
    binding: g.binding,
    means: g.means,
    logScales: g.logScales,
    quats: g.quats,
    opacityLogits: g.opacityLogits,
    sh: g.sh,
  });
}

export function decodeAvatar(bytes: Uint8Array, name: string, triangleCount: number): { avatar: BoundGaussians; meta: AvatarMeta } {
  const { meta, arrays: a } = decodeBundle<AvatarMeta>(bytes, name, 'avatar');
  const N = meta.count;
  const want: Record<string, [Dtype, number]> = {
    binding: ['i32', N],
    means: ['f32', N * 3],
    logScales: ['f32', N * 3],
    quats: ['f32', N * 4],
    opacityLogits: ['f32', N],
    sh: ['f32', N * shCoeffs(meta.shDegree) * 3],
  };
  for (const [k, [dtype, n]] of Object.entries(want)) {
    const arr = a[k];
    if (!arr || dtypeOf(arr) !== dtype || arr.length !== n)
      throw new Error(`${name}: avatar array ${k}: expected ${dtype}[${n}], got ${arr ? `${dtypeOf(arr)}[${arr.length}]` : 'none'}`);
  }
  const binding = a.binding as Int32Array;
  for (let i = 0; i < N; i++) {
    if (binding[i]! < 0 || binding[i]! >= triangleCount)
      throw new Error(`${name}: binding[${i}] = ${binding[i]} is not a triangle of the head (0..${triangleCount - 1})`);
  }
  return {
    meta,
    avatar: {
      count: N,
      shDegree: meta.shDegree,
      binding,
      means: a.means as Float32Array,
      logScales: a.logScales as Float32Array,
      quats: a.quats as Float32Array,
      opacityLogits: a.opacityLogits as Float32Array,
      sh: a.sh as Float32Array,
    },
  };
}
