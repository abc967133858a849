/**
 * Backward of stage 3: per tile, the pixels walk their list back to front from the last blended Gaussian,
 * reconstructing T_k = T_{k+1} / (1 − α_k) from T_final, and produce per (pixel, Gaussian) the gradient
 * with respect to the splat (means2D u, v; conic a, b, c; opacity; colour rgb; depth z): 10 values.
 *
 * Accumulation, and why no float atomics: WGSL has no atomic float add, and CAS loops on u32 bit patterns
 * serialise badly when the 256 pixels of a tile hit the same Gaussian at once (and make the sums
 * nondeterministic). Instead each (tile, Gaussian) pair has its own slot, at the key's emit index: the
 * workgroup sums its 256 pixels' contributions (a reduce-scatter within each subgroup, then the subgroup
 * partials in workgroup memory) and one thread writes the slot with a plain store.
 *
 * The reduce-scatter: ten subgroupAdds would cost 10·log2(S) shuffles per Gaussian and subgroup (50 at
 * S = 32), more issue slots than the blending math itself. Instead, at each butterfly step the two lanes
 * of a pair split the values they hold, each keeping one half and receiving its partner's copy of that
 * half, so the values per lane halve (10, 5, 3, 2, 1) and a step costs ⌈m/2⌉ shuffles: 12 at S = 32. At
 * the end each field's subgroup sum sits in exactly one lane (which one depends only on the lane index),
 * and that lane stores it. The order of the additions is fixed, so the sums stay reproducible. A Gaussian's slots are
 * contiguous in emit order, so the projection backward sums them with a plain loop. The order of every
 * sum is fixed (subgroup partials are summed in the order of their first invocation), so gradients are
 * bitwise reproducible. Without subgroups, the pixels CAS-add into workgroup memory instead (contention stays
 * inside the workgroup; used only where subgroups are missing).
 *
 * Blending gradient (see the reference's derivation, lib/raster/reference/backward.ts): with P = (1−T_f)/D
 * and C̄ = N/D for renormalised WABE (P = 1, C̄ = 0 otherwise), per pixel constants gN = P·∂L/∂C,
 * g1 = −P ∂L/∂C·C̄ and tail = ∂L/∂A − ∂L/∂C·(bg − C̄), and one running scalar over the Gaussians behind k
 *   Q = Σ_{j>k} (gN·c_j + g1) w_j α_j T_j (1 + β' T_j) + ∂L/∂depth · z_j α_j T_j,
 * the gradients are
 *   ∂L/∂α_k = (gN·c_k + g1) w_k T_k + ∂L/∂depth z_k T_k − (Q − tail·T_f) / (1 − α_k),
 *   ∂L/∂c_k = gN w_k α_k T_k,   ∂L/∂z_k = ∂L/∂depth α_k T_k.
 */
import { frameWgsl } from './frame.js';
import { projWgsl } from './project.wgsl.js';
import { blendConstants, type BlendVariant } from './rasterize.wgsl.js';

export const GRAD_FIELDS = 10; // du, dv, da, db, dc, dopacity, dr, dg, db, dz

export interface BackwardShape {
  subgroups: boolean;
  /** Gaussians per batch (and per reduction round). */
  batch: number;
  /** Most subgroups per 256-thread workgroup (256 / smallest subgroup size). */
  nsg: number;
}

/** Batch size so the subgroup partials take ≤ 10 KiB of workgroup memory. */
export function backwardShape(subgroups: boolean, minSubgroupSize: number): BackwardShape {
  if (!subgroups) return { subgroups: false, batch: 32, nsg: 1 };
  const nsg = Math.ceil(256 / minSubgroupSize);
  const batch = Math.max(4, Math.min(32, Math.floor(10240 / (nsg * GRAD_FIELDS * 4))));
  return { subgroups: true, batch, nsg };
}

/** Butterfly steps the reduce-scatter unrolls: enough for subgroups of up to 2^7 = 128 lanes. */
const MAX_STEPS = 7;

/** Values per lane before each butterfly step: 10, 5, 3, 2, 1, 1, … (and after the last). */
function stepCounts(): number[] {
  const m = [GRAD_FIELDS];
  for (let s = 0; s < MAX_STEPS; s++) m.push(Math.ceil(m[s]! / 2));
  return m;
}

/**
 * WGSL computing, once per thread, which fields the lane holds after the reduce-scatter: fields
 * rsBase … rsBase + rsCount − 1, in v[0 … rsCount − 1].
 */
function reduceScatterOwnership(): string {
  const m = stepCounts();
  const steps = Array.from({ length: MAX_STEPS }, (_, s) => {
    const h = m[s + 1]!;
    return `  if (sgSize >= ${2 ** (s + 1)}u) {
    if ((lane & (sgSize >> ${s + 1}u)) != 0u) { rsBase += ${h}u; rsCount = select(0u, rsCount - ${h}u, rsCount > ${h}u); } else { rsCount = min(rsCount, ${h}u); }
  }`;
  });
  return `  var rsBase = 0u;
  var rsCount = ${GRAD_FIELDS}u;
${steps.join('\n')}`;
}

/** WGSL reducing v[0 … 9] over the subgroup into the layout reduceScatterOwnership describes. */
function reduceScatter(): string {
  const m = stepCounts();
  const steps = Array.from({ length: MAX_STEPS }, (_, s) => {
    const [cur, h] = [m[s]!, m[s + 1]!];
    const upper = (j: number) => (h + j < cur ? `v[${h + j}]` : '0.0');
    const lines: string[] = [];
    for (let j = 0; j < h; j++) {
      // The lower lane of a pair keeps v[0 … h), the upper one v[h … cur); each sends the other half.
      lines.push(`          let r${j} = subgroupShuffleXor(select(${upper(j)}, v[${j}], hi), o);`);
    }
    for (let j = 0; j < h; j++) lines.push(`          v[${j}] = select(v[${j}], ${upper(j)}, hi) + r${j};`);
    return `        if (sgSize >= ${2 ** (s + 1)}u) {
          let o = sgSize >> ${s + 1}u;
          let hi = (lane & o) != 0u;
${lines.join('\n')}
        }`;
  });
  return steps.join('\n');
}

export function rasterizeBackwardWgsl(v: BlendVariant, sh: BackwardShape): string {
  const B = sh.batch;
  const reduceDecl = sh.subgroups
    ? `var<workgroup> red: array<f32, ${B * sh.nsg * GRAD_FIELDS}>; // [batch][subgroup][field]
var<workgroup> ticket: atomic<u32>;
var<workgroup> sgFirst: array<u32, ${sh.nsg}>;`
    : `var<workgroup> red: array<atomic<u32>, ${B * GRAD_FIELDS}>; // [batch][field] f32 bits`;
  return /* wgsl */ `
${sh.subgroups ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);' : ''}
${frameWgsl}
${projWgsl}
${blendConstants}
const B: u32 = ${B}u;
const NSG: u32 = ${sh.nsg}u;
const NF: u32 = ${GRAD_FIELDS}u;
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2u>;
@group(0) @binding(2) var<storage, read> keyGid: array<u32>;
@group(0) @binding(3) var<storage, read> emitBase: array<u32>;  // [N] by id: first emit index (tiles.wgsl.ts)
@group(0) @binding(4) var<storage, read> proj: array<Proj>;
@group(0) @binding(5) var<storage, read> finalT: array<f32>;
@group(0) @binding(6) var<storage, read> lastIdx: array<u32>;
@group(0) @binding(7) var<storage, read> dOut: array<f32>;     // [H,W,5] ∂L/∂(r, g, b, alpha, depth)
@group(0) @binding(8) var<storage, read_write> partials: array<f32>; // [capacity, 10] per emit index
${v.renorm ? '@group(0) @binding(9) var<storage, read> wabeSums: array<vec4f>;' : ''}
@group(0) @binding(10) var<storage, read> rects: array<vec2u>;  // [N] tile rectangles (project.wgsl.ts)

// The emit index of Gaussian gid's key in tile (tx, ty): its first one plus the tile's row-major place in
// its rectangle, as the emit pass numbered them.
fn emitIndex(gid: u32, tx: u32, ty: u32) -> u32 {
  let r = rects[gid];
  let x0 = r.x & 0xffffu;
  return emitBase[gid] + (ty - (r.x >> 16u)) * ((r.y & 0xffffu) - x0) + (tx - x0);
}

var<workgroup> sXY: array<vec4f, B>;    // u, v, opacity, depth
var<workgroup> sConic: array<vec4f, B>;
var<workgroup> sColor: array<vec4f, B>;
var<workgroup> sEmit: array<u32, B>;
var<workgroup> maxLast: atomic<u32>;
${reduceDecl}

${
  sh.subgroups
    ? ''
    : `fn casAdd(i: u32, x: f32) {
  var old = atomicLoad(&red[i]);
  loop {
    let r = atomicCompareExchangeWeak(&red[i], old, bitcast<u32>(bitcast<f32>(old) + x));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`
}

@compute @workgroup_size(16, 16)
fn rasterizeBackward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) l: vec3u,
                     @builtin(local_invocation_index) lid: u32
                     ${sh.subgroups ? ', @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgSize: u32' : ''}) {
  let width = fr.dims.x; let height = fr.dims.y;
  let tile = wid.x + wid.y * fr.dims.z;
  let px = wid.x * 16u + l.x; let py = wid.y * 16u + l.y;
  let inside = px < width && py < height;
  let pix = select(0u, py * width + px, inside);
  let centre = vec2f(f32(px) + 0.5, f32(py) + 0.5);
  let range = ranges[tile];

  var Tf = 1.0;
  var last = 0u;
  var gC = vec3f(0.0);
  var gA = 0.0;
  var gD = 0.0;
  if (inside) {
    Tf = finalT[pix];
    last = lastIdx[pix];
    let o = pix * 5u;
    gC = vec3f(dOut[o], dOut[o + 1u], dOut[o + 2u]);
    gA = dOut[o + 3u];
    gD = dOut[o + 4u];
  }
  let bg = fr.bg.xyz;
  var gN = gC;
  var g1 = 0.0;
  var tail = gA - dot(gC, bg);
  ${
    v.renorm
      ? `if (inside) {
    let sums = wabeSums[pix];
    if (sums.w > 0.0) {
      let P = (1.0 - Tf) / sums.w;
      let Cbar = sums.xyz / sums.w;
      let q = dot(gC, Cbar);
      gN = P * gC;
      g1 = -P * q;
      tail = gA - dot(gC, bg) + q;
    }
  }`
      : ''
  }
  let beta = fr.blend.x;
  var T = Tf;
  var Q = 0.0;

  if (lid == 0u) { atomicStore(&maxLast, 0u); ${sh.subgroups ? 'atomicStore(&ticket, 0u);' : ''} }
  workgroupBarrier();
  atomicMax(&maxLast, last);
  ${
    sh.subgroups
      ? `// Subgroup slots ordered by each subgroup's first invocation, so the partials are summed in the same
  // order every run (a ticket alone would follow scheduling).
  let first = subgroupMin(lid);
  if (lane == 0u) { sgFirst[atomicAdd(&ticket, 1u)] = first; }`
      : ''
  }
  let end = workgroupUniformLoad(&maxLast);
  ${
    sh.subgroups
      ? `let nsg = 256u / sgSize;
  var sg = 0u;
  for (var k = 0u; k < nsg; k++) { sg += select(0u, 1u, sgFirst[k] < first); }
${reduceScatterOwnership()}`
      : ''
  }
  let nBatches = (end + B - 1u) / B;
  for (var b = 0u; b < nBatches; b++) {
    let be = end - b * B;
    let bs = select(0u, be - B, be > B);
    let cnt = be - bs;
    workgroupBarrier();
    if (lid < cnt) {
      let gid = keyGid[range.x + bs + lid];
      let p = proj[gid];
      sXY[lid] = vec4f(p.a.xy, p.a.w, p.a.z);
      sConic[lid] = p.b;
      sColor[lid] = p.c;
      sEmit[lid] = emitIndex(gid, wid.x, wid.y);
    }
    ${sh.subgroups ? '' : 'for (var t = lid; t < B * NF; t += 256u) { atomicStore(&red[t], 0u); }'}
    workgroupBarrier();
    for (var jj = 0u; jj < cnt; jj++) {
      let li = cnt - 1u - jj;
      let pos = bs + li;
      let g = sXY[li];
      let co = sConic[li];
      let d = g.xy - centre;
      let power = -0.5 * (co.x * d.x * d.x + co.z * d.y * d.y) - co.y * d.x * d.y;
      let G = exp(power);
      let raw = g.z * G;
      let alpha = min(ALPHA_MAX, raw);
      let contributes = pos < last && power <= 0.0 && alpha >= ALPHA_MIN;
      var gUV = vec2f(0.0);
      var gConic = vec3f(0.0);
      var gOpacity = 0.0;
      var gColor = vec3f(0.0);
      var gZ = 0.0;
      if (contributes) {
        let oneMinus = 1.0 - alpha;
        T = T / oneMinus;
        let c = sColor[li].xyz;
        ${v.wabe ? 'let w = exp(-beta * (1.0 - T));' : 'let w = 1.0;'}
        let cw = dot(gN, c) + g1;
        let dLdAlpha = cw * w * T + gD * g.w * T - (Q - tail * Tf) / oneMinus;
        let aT = alpha * T;
        gColor = gN * (w * aT);
        gZ = gD * aT;
        Q += cw * w * aT${v.wabeGrad ? ' * (1.0 + beta * T)' : ''} + gD * g.w * aT;
        if (raw <= ALPHA_MAX) {
          gOpacity = G * dLdAlpha;
          let gPower = g.z * G * dLdAlpha;
          gUV = gPower * vec2f(-(co.x * d.x + co.y * d.y), -(co.z * d.y + co.y * d.x));
          gConic = gPower * vec3f(-0.5 * d.x * d.x, -d.x * d.y, -0.5 * d.y * d.y);
        }
      }
      ${
        sh.subgroups
          ? `if (subgroupAny(contributes)) {
        let base = (li * NSG + sg) * NF + rsBase;
        var v = array<f32, ${GRAD_FIELDS}>(gUV.x, gUV.y, gConic.x, gConic.y, gConic.z, gOpacity, gColor.x, gColor.y, gColor.z, gZ);
${reduceScatter()}
        // Constant indices only: a run-time index into v would move it out of registers.
${Array.from({ length: GRAD_FIELDS }, (_, p) => `        if (rsCount > ${p}u) { red[base + ${p}u] = v[${p}]; }`).join('\n')}
      } else if (lane == 0u) {
        let base = (li * NSG + sg) * NF;
        for (var f = 0u; f < NF; f++) { red[base + f] = 0.0; }
      }`
          : `if (contributes) {
        let base = li * NF;
        casAdd(base, gUV.x); casAdd(base + 1u, gUV.y);
        casAdd(base + 2u, gConic.x); casAdd(base + 3u, gConic.y); casAdd(base + 4u, gConic.z);
        casAdd(base + 5u, gOpacity);
        casAdd(base + 6u, gColor.x); casAdd(base + 7u, gColor.y); casAdd(base + 8u, gColor.z);
        casAdd(base + 9u, gZ);
      }`
      }
    }
    workgroupBarrier();
    for (var t = lid; t < cnt * NF; t += 256u) {
      let li = t / NF;
      let f = t - li * NF;
      ${
        sh.subgroups
          ? `var s = 0.0;
      for (var k = 0u; k < nsg; k++) { s += red[(li * NSG + k) * NF + f]; }`
          : 'let s = bitcast<f32>(atomicLoad(&red[t]));'
      }
      partials[sEmit[li] * NF + f] = s;
    }
  }
  // Keys past every pixel's last contributor got no slot above. Zero theirs: the per-Gaussian sums read
  // every slot of a Gaussian, and the buffer holds the previous frame's values (only a fresh one is zero).
  let nKeys = range.y - range.x;
  for (var t = end + lid; t < nKeys; t += 256u) {
    let e = emitIndex(keyGid[range.x + t], wid.x, wid.y);
    for (var f = 0u; f < NF; f++) { partials[e * NF + f] = 0.0; }
  }
}
`;
}
