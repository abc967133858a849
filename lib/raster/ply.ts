/**
 * 3DGS `.ply` import/export (the layout of graphdeco-inria's `save_ply`, read by every splat viewer):
 *
 *   x y z [nx ny nz] f_dc_0..2 f_rest_0..(3(K−1)−1) opacity scale_0..2 rot_0..3 [extra…]
 *
 * f_rest is channel-major in the file (f_rest_{c·(K−1) + k−1} holds channel c of coefficient k ≥ 1); our `sh`
 * is coefficient-major [N, K, 3], so both directions transpose. opacity is a logit, scale_* are logs,
 * rot_* is (w, x, y, z), as in `Gaussians`. Other vertex properties (e.g. GaussianAvatars' integer `binding`)
 * are returned in `extra` and written back after the standard ones; normals are read and dropped, and
 * written as zeros. Reads binary (either endianness) and ascii; writes binary_little_endian.
 */
import type { Gaussians, ShDegree } from './types.js';

type ScalarType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

const TYPE_ALIASES: Record<string, ScalarType> = {
  char: 'int8',
  int8: 'int8',
  uchar: 'uint8',
  uint8: 'uint8',
  short: 'int16',
  int16: 'int16',
  ushort: 'uint16',
  uint16: 'uint16',
  int: 'int32',
  int32: 'int32',
  uint: 'uint32',
  uint32: 'uint32',
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
};
const TYPE_SIZE: Record<ScalarType, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 };
const isFloatType = (t: ScalarType) => t === 'float32' || t === 'float64';

interface PlyProperty {
  name: string;
  type: ScalarType;
  /** For list properties: the type of the count that precedes the items. */
  countType?: ScalarType;
}

interface PlyElement {
  name: string;
  count: number;
  props: PlyProperty[];
}

export interface PlyData {
  gaussians: Gaussians;
  /** Vertex properties beyond the 3DGS layout, by name: [N] each; integer types as Int32Array. */
  extra: Record<string, Float32Array | Int32Array>;
}

const SH_REST_COUNTS: Record<number, ShDegree> = { 0: 0, 9: 1, 24: 2, 45: 3 };
const REQUIRED = ['x', 'y', 'z', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
const STANDARD = new Set([...REQUIRED, 'nx', 'ny', 'nz']);
const isStandard = (name: string) => STANDARD.has(name) || /^f_rest_\d+$/.test(name);

function readScalar(view: DataView, offset: number, type: ScalarType, le: boolean): number {
  switch (type) {
    case 'int8':
      return view.getInt8(offset);
    case 'uint8':
      return view.getUint8(offset);
    case 'int16':
      return view.getInt16(offset, le);
    case 'uint16':
      return view.getUint16(offset, le);
    case 'int32':
      return view.getInt32(offset, le);
    case 'uint32':
      return view.getUint32(offset, le);
    case 'float32':
      return view.getFloat32(offset, le);
    case 'float64':
      return view.getFloat64(offset, le);
  }
}

const latin1 = new TextDecoder('latin1');

interface Header {
  format: 'ascii' | 'binary_little_endian' | 'binary_big_endian';
  elements: PlyElement[];
  bodyStart: number; // byte offset just past "end_header\n"
}

function parseHeader(bytes: Uint8Array, name: string): Header {
  // The header is ASCII and ends with the line "end_header".
  const text = latin1.decode(bytes.subarray(0, Math.min(bytes.length, 1 << 20)));
  if (!text.startsWith('ply\n') && !text.startsWith('ply\r\n')) throw new Error(`${name}: not a PLY file (it does not start with 'ply')`);
  const m = /(^|\n)end_header\r?\n/.exec(text);
  if (!m) throw new Error(`${name}: PLY header has no 'end_header' line`);
  const bodyStart = m.index + m[0].length;
  const lines = text
    .slice(0, m.index)
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim());
  let format: Header['format'] | undefined;
  const elements: PlyElement[] = [];
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (line === '' || line.startsWith('comment') || line.startsWith('obj_info')) continue;
    const tok = line.split(/\s+/);
    if (tok[0] === 'format') {
      if (tok[1] !== 'ascii' && tok[1] !== 'binary_little_endian' && tok[1] !== 'binary_big_endian') {
        throw new Error(`${name}: unsupported PLY format '${tok[1] ?? ''}'`);
      }
      format = tok[1];
    } else if (tok[0] === 'element') {
      const count = Number(tok[2]);
      if (tok.length !== 3 || !Number.isInteger(count) || count < 0) throw new Error(`${name}: malformed element line '${line}'`);
      elements.push({ name: tok[1]!, count, props: [] });
    } else if (tok[0] === 'property') {
      const el = elements[elements.length - 1];
      if (!el) throw new Error(`${name}: property line '${line}' before any element`);
      if (tok[1] === 'list') {
        const countType = TYPE_ALIASES[tok[2] ?? ''],
          type = TYPE_ALIASES[tok[3] ?? ''];
        if (tok.length !== 5 || !countType || !type) throw new Error(`${name}: malformed list property '${line}' of element '${el.name}'`);
        el.props.push({ name: tok[4]!, type, countType });
      } else {
        const type = TYPE_ALIASES[tok[1] ?? ''];
        if (tok.length !== 3) throw new Error(`${name}: malformed property line '${line}'`);
        if (!type) throw new Error(`${name}: ${el.name} property '${tok[2]}' has unknown type '${tok[1]}'`);
        el.props.push({ name: tok[2]!, type });
      }
    } else {
      throw new Error(`${name}: unexpected PLY header line '${line}'`);
    }
  }
  if (!format) throw new Error(`${name}: PLY header has no 'format' line`);
  return { format, elements, bodyStart };
}

/** Validates the vertex element against the 3DGS layout; returns the SH degree. */
function checkVertexLayout(vertex: PlyElement, name: string): ShDegree {
  const names = new Set<string>();
  for (const p of vertex.props) {
    if (names.has(p.name)) throw new Error(`${name}: duplicate vertex property '${p.name}'`);
    names.add(p.name);
    if (p.countType) throw new Error(`${name}: vertex property '${p.name}' is a list; 3DGS vertex properties are scalars`);
  }
  for (const r of REQUIRED) if (!names.has(r)) throw new Error(`${name}: missing vertex property '${r}'`);
  const rest = vertex.props.filter((p) => /^f_rest_\d+$/.test(p.name)).length;
  for (let i = 0; i < rest; i++)
    if (!names.has(`f_rest_${i}`)) throw new Error(`${name}: missing vertex property 'f_rest_${i}' (the file has ${rest} f_rest properties)`);
  const degree = SH_REST_COUNTS[rest];
  if (degree === undefined) throw new Error(`${name}: f_rest count ${rest} matches no SH degree (expected 0, 9, 24 or 45)`);
  return degree;
}

/** Reads every element of the body into per-property columns (vertex only; other elements are skipped). */
function readVertexColumns(bytes: Uint8Array, header: Header, name: string): Map<string, Float64Array> {
  const vIndex = header.elements.findIndex((e) => e.name === 'vertex');
  const vertex = header.elements[vIndex]!;
  const cols = new Map<string, Float64Array>();
  for (const p of vertex.props) cols.set(p.name, new Float64Array(vertex.count));
  const columns = vertex.props.map((p) => cols.get(p.name)!);

  if (header.format === 'ascii') {
    const lines = latin1
      .decode(bytes.subarray(header.bodyStart))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    let line = 0;
    for (let e = 0; e < vIndex; e++) line += header.elements[e]!.count; // one line per element instance
    const available = Math.max(0, Math.min(vertex.count, lines.length - line));
    if (available < vertex.count) throw new Error(`${name}: header says ${vertex.count} vertices but the body holds ${available}`);
    for (let i = 0; i < vertex.count; i++) {
      const tok = lines[line + i]!.split(/\s+/);
      if (tok.length !== vertex.props.length) throw new Error(`${name}: vertex ${i} has ${tok.length} values, expected ${vertex.props.length}`);
      for (let k = 0; k < tok.length; k++) {
        const v = Number(tok[k]);
        if (Number.isNaN(v) && !/^[-+]?nan$/i.test(tok[k]!))
          throw new Error(`${name}: vertex ${i} property '${vertex.props[k]!.name}' is not a number ('${tok[k]}')`);
        columns[k]![i] = v;
      }
    }
    return cols;
  }

  const le = header.format === 'binary_little_endian';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = header.bodyStart;
  // Skip the elements before the vertex element (list properties make their sizes data-dependent).
  for (let e = 0; e < vIndex; e++) {
    const el = header.elements[e]!;
    for (let i = 0; i < el.count; i++) {
      for (const p of el.props) {
        if (p.countType) {
          if (offset + TYPE_SIZE[p.countType] > bytes.length) throw new Error(`${name}: body ends inside element '${el.name}' ${i} (header says ${el.count})`);
          const n = readScalar(view, offset, p.countType, le);
          offset += TYPE_SIZE[p.countType] + n * TYPE_SIZE[p.type];
        } else offset += TYPE_SIZE[p.type];
      }
      if (offset > bytes.length) throw new Error(`${name}: body ends inside element '${el.name}' ${i} (header says ${el.count})`);
    }
  }
  const stride = vertex.props.reduce((s, p) => s + TYPE_SIZE[p.type], 0);
  const available = Math.floor((bytes.length - offset) / stride);
  const isLast = vIndex === header.elements.length - 1;
  if (available < vertex.count || (isLast && bytes.length - offset !== vertex.count * stride)) {
    const extraBytes = (bytes.length - offset) % stride;
    throw new Error(
      `${name}: header says ${vertex.count} vertices but the body holds ${available}` +
        (extraBytes ? ` (and ${extraBytes} trailing bytes; a vertex is ${stride} bytes)` : ''),
    );
  }
  const offsets: number[] = [];
  let o = 0;
  for (const p of vertex.props) {
    offsets.push(o);
    o += TYPE_SIZE[p.type];
  }
  for (let i = 0; i < vertex.count; i++) {
    const base = offset + i * stride;
    for (let k = 0; k < vertex.props.length; k++) columns[k]![i] = readScalar(view, base + offsets[k]!, vertex.props[k]!.type, le);
  }
  return cols;
}

export function readPly(bytes: Uint8Array, name: string): PlyData {
  const header = parseHeader(bytes, name);
  const vertex = header.elements.find((e) => e.name === 'vertex');
  if (!vertex) throw new Error(`${name}: PLY has no 'vertex' element`);
  const degree = checkVertexLayout(vertex, name);
  const cols = readVertexColumns(bytes, header, name);
  const n = vertex.count;
  const K = (degree + 1) * (degree + 1);
  const col = (p: string) => cols.get(p)!;
  const g: Gaussians = {
    count: n,
    shDegree: degree,
    means: new Float32Array(3 * n),
    logScales: new Float32Array(3 * n),
    quats: new Float32Array(4 * n),
    opacityLogits: new Float32Array(n),
    sh: new Float32Array(3 * K * n),
  };
  const gather = (dst: Float32Array, names: string[]) => {
    const cs = names.map(col);
    for (let i = 0; i < n; i++) for (let k = 0; k < cs.length; k++) dst[names.length * i + k] = cs[k]![i]!;
  };
  gather(g.means, ['x', 'y', 'z']);
  gather(g.logScales, ['scale_0', 'scale_1', 'scale_2']);
  gather(g.quats, ['rot_0', 'rot_1', 'rot_2', 'rot_3']);
  gather(g.opacityLogits, ['opacity']);
  // sh[n, k, c]: k = 0 from f_dc_c; k ≥ 1 from the channel-major f_rest_{c(K−1) + k−1}.
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < 3; c++) {
      const src = col(k === 0 ? `f_dc_${c}` : `f_rest_${c * (K - 1) + (k - 1)}`);
      for (let i = 0; i < n; i++) g.sh[(i * K + k) * 3 + c] = src[i]!;
    }
  }
  const extra: PlyData['extra'] = {};
  for (const p of vertex.props) {
    if (isStandard(p.name)) continue;
    const src = col(p.name);
    if (isFloatType(p.type)) extra[p.name] = Float32Array.from(src);
    else {
      for (let i = 0; i < n; i++) {
        if (src[i]! > 2147483647) throw new Error(`${name}: vertex ${i} property '${p.name}' = ${src[i]} does not fit int32`);
      }
      extra[p.name] = Int32Array.from(src);
    }
  }
  return { gaussians: g, extra };
}

/** Serialises Gaussians (and per-Gaussian extra properties) as a binary_little_endian 3DGS .ply. */
export function writePly(g: Gaussians, extra: Record<string, Float32Array | Int32Array> = {}): Uint8Array {
  const n = g.count;
  const K = (g.shDegree + 1) * (g.shDegree + 1);
  const check = (field: string, arr: ArrayLike<number>, per: number) => {
    if (arr.length !== n * per) throw new Error(`writePly: ${field} has ${arr.length} values, expected ${n * per} for ${n} Gaussians`);
  };
  check('means', g.means, 3);
  check('logScales', g.logScales, 3);
  check('quats', g.quats, 4);
  check('opacityLogits', g.opacityLogits, 1);
  check('sh', g.sh, 3 * K);
  const extraNames = Object.keys(extra);
  for (const e of extraNames) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e)) throw new Error(`writePly: extra property name '${e}' is not a valid PLY property name`);
    if (isStandard(e)) throw new Error(`writePly: extra property '${e}' clashes with a standard 3DGS property`);
    check(`extra '${e}'`, extra[e]!, 1);
  }
  const floats = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2'];
  for (let i = 0; i < 3 * (K - 1); i++) floats.push(`f_rest_${i}`);
  floats.push('opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3');
  const lines = ['ply', 'format binary_little_endian 1.0', `element vertex ${n}`, ...floats.map((f) => `property float ${f}`)];
  for (const e of extraNames) lines.push(`property ${extra[e] instanceof Int32Array ? 'int' : 'float'} ${e}`);
  lines.push('end_header');
  const head = new TextEncoder().encode(lines.join('\n') + '\n');
  const stride = 4 * (floats.length + extraNames.length);
  const out = new Uint8Array(head.length + n * stride);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  let o = head.length;
  const f = (v: number) => {
    view.setFloat32(o, v, true);
    o += 4;
  };
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) f(g.means[3 * i + a]!);
    for (let a = 0; a < 3; a++) f(0); // normals
    for (let c = 0; c < 3; c++) f(g.sh[i * K * 3 + c]!);
    for (let c = 0; c < 3; c++) for (let k = 1; k < K; k++) f(g.sh[(i * K + k) * 3 + c]!);
    f(g.opacityLogits[i]!);
    for (let a = 0; a < 3; a++) f(g.logScales[3 * i + a]!);
    for (let a = 0; a < 4; a++) f(g.quats[4 * i + a]!);
    for (const e of extraNames) {
      const arr = extra[e]!;
      if (arr instanceof Int32Array) view.setInt32(o, arr[i]!, true);
      else view.setFloat32(o, arr[i]!, true);
      o += 4;
    }
  }
  return out;
}
