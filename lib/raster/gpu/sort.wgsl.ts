/**
 * Stable LSD radix sort of u32 keys with u32 values, 8 bits per pass, as reduce-then-scan:
 *   histogram: per block of WG·KPT keys, the count of each digit → hist[digit · numBlocks + block]
 *   (exclusive scan of hist, lib/gpu ExclusiveScanPlan: each (digit, block) gets its global start)
 *   scatter:   each block re-reads its keys and writes them to start + stable rank within the block.
 *
 * The stable rank is computed round by round (WG keys per round). With subgroups, a key's rank within its
 * subgroup comes from a ballot "match" over the 8 digit bits (the peers with the same digit), and the
 * ranks across subgroups from per-(digit, subgroup) counts in workgroup memory, scanned by one thread per
 * digit: two barriers per round. Each key is then written to its global place directly, or, with `local`,
 * the ranks are local (the block's own digit counts, scanned in workgroup memory), the block is sorted in
 * workgroup memory and written out in order, so that the writes of neighbouring threads land next to each
 * other instead of every lane of a round writing to a different bucket. An earlier version of the local
 * variant measured slower than the direct one on an H100 (commit 148bf19), so it is opt-in (`bench:raster
 * --local-scatter` measures it). Without subgroups (fallback), each thread counts the equal digits before
 * it in the round: O(WG) per key, slow but simple.
 *
 * Subgroup indices come from a ticket counter, not from local_invocation_index / subgroup_size, so the
 * ordering holds whatever the hardware's lane-to-invocation mapping is.
 *
 * The key count is read from a storage buffer (`counts[countOffset]`) when it is only known on the GPU;
 * launches cover an upper bound (or come from an indirect dispatch) and surplus workgroups return.
 */

export const RADIX = 256;

const common = /* wgsl */ `
override WG: u32 = 256u;
override KPT: u32 = 16u;
const RADIX: u32 = 256u;

struct SortPass {
  shift: u32,
  countOffset: u32,
  fixedCount: u32,
  countFromBuffer: u32,
  valsIdentity: u32, // values are the key indices (first pass of a sort whose values start as 0..n−1)
  metaOffset: u32,   // where the histogram pass writes RADIX · numBlocks for the scan
  _p0: u32,
  _p1: u32,
}
@group(0) @binding(0) var<uniform> sp: SortPass;
@group(0) @binding(1) var<storage, read> counts: array<u32>;

fn keyCount() -> u32 {
  return select(sp.fixedCount, counts[sp.countOffset], sp.countFromBuffer != 0u);
}
fn blockSize() -> u32 { return WG * KPT; }
`;

const subgroupFns = /* wgsl */ `
// Lanes of this subgroup whose digit equals d (and that hold a valid key).
fn matchPeers(d: u32, valid: bool) -> vec4u {
  var peers = subgroupBallot(valid);
  for (var bit = 0u; bit < 8u; bit++) {
    let on = ((d >> bit) & 1u) == 1u;
    let b = subgroupBallot(on);
    peers &= select(~b, b, on);
  }
  return peers;
}
fn ltMask(lane: u32) -> vec4u {
  var m = vec4u(0u);
  for (var w = 0u; w < 4u; w++) {
    let lo = w * 32u;
    if (lane >= lo + 32u) { m[w] = 0xffffffffu; } else if (lane > lo) { m[w] = (1u << (lane - lo)) - 1u; }
  }
  return m;
}
fn popc4(v: vec4u) -> u32 { let c = countOneBits(v); return c.x + c.y + c.z + c.w; }
`;

/** What both passes start with: the subgroup helpers only where the device has subgroups. */
function preamble(subgroups: boolean): string {
  return /* wgsl */ `
${subgroups ? 'enable subgroups;' : ''}
${common}
${subgroups ? subgroupFns : ''}
`;
}

/** Histogram pass. */
export function radixHistogramWgsl(subgroups: boolean, kpt: number): string {
  return /* wgsl */ `${preamble(subgroups)}@group(0) @binding(2) var<storage, read> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist: array<u32>;
@group(0) @binding(4) var<storage, read_write> sortMeta: array<u32>;

var<workgroup> h: array<atomic<u32>, 256>;

@compute @workgroup_size(WG)
fn histogram(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32
             ${subgroups ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let n = keyCount();
  let nb = (n + blockSize() - 1u) / blockSize();
  let block = wid.x + wid.y * nwg.x;
  if (block == 0u && lid == 0u) { sortMeta[sp.metaOffset] = RADIX * nb; }
  if (block >= nb) { return; }
  for (var d = lid; d < RADIX; d += WG) { atomicStore(&h[d], 0u); }
  workgroupBarrier();
  ${subgroups ? 'let lt = ltMask(lane);' : ''}
  let start = block * blockSize();
  // All of the thread's loads are issued before any is used, so their latencies overlap.
  var keysR: array<u32, ${kpt}>;
  for (var r = 0u; r < ${kpt}u; r++) {
    let idx = start + r * WG + lid;
    if (idx < n) { keysR[r] = keys[idx]; }
  }
  for (var r = 0u; r < ${kpt}u; r++) {
    let idx = start + r * WG + lid;
    let valid = idx < n;
    let key = keysR[r];
    let d = (key >> sp.shift) & 0xffu;
    ${
      subgroups
        ? `let peers = matchPeers(d, valid);
    if (valid && popc4(peers & lt) == 0u) { atomicAdd(&h[d], popc4(peers)); }`
        : `if (valid) { atomicAdd(&h[d], 1u); }`
    }
  }
  workgroupBarrier();
  for (var d = lid; d < RADIX; d += WG) { hist[d * nb + block] = atomicLoad(&h[d]); }
}
`;
}

/**
 * Scatter pass; NSG = the most subgroups a workgroup can have (WG / smallest subgroup size). `local`
 * (subgroups only): sort each block in workgroup memory first, then write it out in order.
 */
export function radixScatterWgsl(subgroups: boolean, kpt: number, local = false): string {
  const head = /* wgsl */ `${preamble(subgroups)}// read_write although only read: the rasterizer keeps both halves of the ping-pong in one buffer (shared
// with the backward's partials), and WebGPU allows read-only and writable bindings of one buffer in a
// dispatch only if all of them are writable (non-overlapping).
@group(0) @binding(2) var<storage, read_write> keysIn: array<u32>;
@group(0) @binding(3) var<storage, read_write> valsIn: array<u32>;
@group(0) @binding(4) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(5) var<storage, read_write> valsOut: array<u32>;
@group(0) @binding(6) var<storage, read> hist: array<u32>;

var<workgroup> base: array<u32, 256>;
`;
  if (subgroups) return local ? localSubgroupScatter(head, kpt) : subgroupScatter(head, kpt);
  return /* wgsl */ `${head}
var<workgroup> digs: array<u32, WG>;

@compute @workgroup_size(WG)
fn scatter(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let n = keyCount();
  let nb = (n + blockSize() - 1u) / blockSize();
  let block = wid.x + wid.y * nwg.x;
  if (block >= nb) { return; }
  for (var d = lid; d < RADIX; d += WG) { base[d] = hist[d * nb + block]; }
  let start = block * blockSize();
  for (var r = 0u; r < KPT; r++) {
    let idx = start + r * WG + lid;
    let valid = idx < n;
    var key = 0u;
    if (valid) { key = keysIn[idx]; }
    let d = (key >> sp.shift) & 0xffu;
    digs[lid] = select(RADIX, d, valid);
    workgroupBarrier();
    var rank = 0u;
    for (var j = 0u; j < lid; j++) { rank += select(0u, 1u, digs[j] == d); }
    if (valid) {
      let dst = base[d] + rank;
      keysOut[dst] = key;
      var v = idx;
      if (sp.valsIdentity == 0u) { v = valsIn[idx]; }
      valsOut[dst] = v;
    }
    workgroupBarrier();
    for (var dd = lid; dd < RADIX; dd += WG) {
      var c = 0u;
      for (var j = 0u; j < WG; j++) { c += select(0u, 1u, digs[j] == dd); }
      base[dd] += c;
    }
    workgroupBarrier();
  }
}
`;
}

/**
 * The subgroup scatter kernel of both variants (direct and local), which differ only in how the block
 * starts (`decls`; `prologue`, which resets the ticket, zeroes cnt[] and sets base[] to each digit's first
 * place), where a ranked key of the round goes (`place`, the body of `if (valid)`) and what follows the
 * rounds (`epilogue`). Pieces are whole lines, newline-terminated except `prologue` and `place`.
 */
function subgroupScatterKernel(head: string, kpt: number, k: { decls: string; prologue: string; place: string; epilogue: string }): string {
  return /* wgsl */ `${head}
override NSG: u32 = 8u;
// Two buffers of per-(digit, subgroup) counts, alternating by round, so a round's clearing of the next
// buffer needs no extra barrier.
var<workgroup> cnt: array<u32, 2u * 256u * NSG>;
var<workgroup> ticket: atomic<u32>;
${k.decls}
@compute @workgroup_size(WG)
fn scatter(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32,
           @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgSize: u32) {
  let n = keyCount();
  let nb = (n + blockSize() - 1u) / blockSize();
  let block = wid.x + wid.y * nwg.x;
  if (block >= nb) { return; }
  let nsg = WG / sgSize;
${k.prologue}
  workgroupBarrier();
  var t = 0u;
  if (lane == 0u) { t = atomicAdd(&ticket, 1u); }
  let sg = subgroupBroadcast(t, 0u);
  let lt = ltMask(lane);
  let start = block * blockSize();
  // All of the thread's keys and values are loaded before the rounds start, so the load latencies overlap
  // instead of each round waiting for its own (the rounds are separated by barriers).
  var keysR: array<u32, ${kpt}>;
  var valsR: array<u32, ${kpt}>;
  for (var r = 0u; r < ${kpt}u; r++) {
    let idx = start + r * WG + sg * sgSize + lane;
    valsR[r] = idx;
    if (idx < n) {
      keysR[r] = keysIn[idx];
      if (sp.valsIdentity == 0u) { valsR[r] = valsIn[idx]; }
    }
  }
  for (var r = 0u; r < ${kpt}u; r++) {
    let cur = (r & 1u) * 256u * NSG;
    let nxt = ((r + 1u) & 1u) * 256u * NSG;
    let idx = start + r * WG + sg * sgSize + lane;
    let valid = idx < n;
    let key = keysR[r];
    let d = (key >> sp.shift) & 0xffu;
    let peers = matchPeers(d, valid);
    let rank = popc4(peers & lt);
    if (valid && rank == 0u) { cnt[cur + d * NSG + sg] = popc4(peers); }
    workgroupBarrier();
    for (var dd = lid; dd < RADIX; dd += WG) {
      var run = base[dd];
      for (var s = 0u; s < nsg; s++) {
        let c = cnt[cur + dd * NSG + s];
        cnt[cur + dd * NSG + s] = run;
        run += c;
        cnt[nxt + dd * NSG + s] = 0u;
      }
      base[dd] = run;
    }
    workgroupBarrier();
    if (valid) {
${k.place}
    }
  }
${k.epilogue}}
`;
}

/** Direct: base[] holds the block's global start of each digit, and each key is written there. */
function subgroupScatter(head: string, kpt: number): string {
  return subgroupScatterKernel(head, kpt, {
    decls: '',
    prologue: /* wgsl */ `  if (lid == 0u) { atomicStore(&ticket, 0u); }
  for (var d = lid; d < RADIX; d += WG) {
    base[d] = hist[d * nb + block];
    for (var s = 0u; s < nsg; s++) { cnt[d * NSG + s] = 0u; }
  }`,
    place: /* wgsl */ `      let dst = cnt[cur + d * NSG + sg] + rank;
      keysOut[dst] = key;
      valsOut[dst] = valsR[r];`,
    epilogue: '',
  });
}

/** Local: ranks within the block, the block sorted in workgroup memory and then written out in order. */
function localSubgroupScatter(head: string, kpt: number): string {
  return subgroupScatterKernel(head, kpt, {
    decls: /* wgsl */ `// The block's keys and values in digit order (its local sort), written out once the rounds are done.
var<workgroup> sk: array<u32, WG * ${kpt}u>;
var<workgroup> sv: array<u32, WG * ${kpt}u>;
var<workgroup> gstart: array<u32, 256>; // global position of the block's first key of each digit, minus its local one
var<workgroup> scanTmp: array<u32, 256>;
`,
    prologue: /* wgsl */ `  let histLen = RADIX * nb;
  if (lid == 0u) { atomicStore(&ticket, 0u); }
  // This block's count of each digit, from the scanned histogram: entries are in (digit, block) order, so
  // the next entry (or n after the last) minus this one.
  for (var d = lid; d < RADIX; d += WG) {
    let at = d * nb + block;
    let g = hist[at];
    let c = select(n, hist[at + 1u], at + 1u < histLen) - g;
    base[d] = c;
    scanTmp[d] = c;
    gstart[d] = g;
    for (var s = 0u; s < nsg; s++) { cnt[d * NSG + s] = 0u; }
  }
  workgroupBarrier();
  // Inclusive scan of the counts over the digits (Hillis–Steele; WG ≥ 64, so ≤ 4 digits per thread).
  for (var off = 1u; off < RADIX; off <<= 1u) {
    var add = vec4u(0u);
    for (var k = 0u; k < 4u; k++) {
      let d = lid + k * WG;
      if (d < RADIX && d >= off) { add[k] = scanTmp[d - off]; }
    }
    workgroupBarrier();
    for (var k = 0u; k < 4u; k++) {
      let d = lid + k * WG;
      if (d < RADIX) { scanTmp[d] += add[k]; }
    }
    workgroupBarrier();
  }
  for (var d = lid; d < RADIX; d += WG) {
    let local = scanTmp[d] - base[d];
    base[d] = local;
    gstart[d] -= local;
  }`,
    place: /* wgsl */ `      let at = cnt[cur + d * NSG + sg] + rank;
      sk[at] = key;
      sv[at] = valsR[r];`,
    epilogue: /* wgsl */ `  workgroupBarrier();
  // Written in local order: neighbouring threads write neighbouring addresses within each digit's run,
  // instead of every lane of a round writing to a different digit's bucket.
  let inBlock = min(blockSize(), n - start);
  for (var i = lid; i < inBlock; i += WG) {
    let key = sk[i];
    let dst = gstart[(key >> sp.shift) & 0xffu] + i;
    keysOut[dst] = key;
    valsOut[dst] = sv[i];
  }
`,
  });
}
