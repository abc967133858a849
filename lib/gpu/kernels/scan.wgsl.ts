/**
 * Exclusive prefix sum of u32 (the tile-intersection offsets and the radix sort's digit offsets) and sum
 * reductions of f32/u32 (losses, norms), as a hierarchy of 1024-element blocks.
 *
 * The element count is read from a storage buffer rather than baked into the dispatch, so a count that
 * only the GPU knows (e.g. the number of tile/Gaussian keys) needs no readback: the launch covers an
 * upper bound and surplus workgroups return at once.
 */

export const SCAN_BLOCK = 1024; // elements per workgroup: 256 threads × 4

const common = /* wgsl */ `
const WG: u32 = 256u;
const PER: u32 = 4u;
const BLOCK: u32 = 1024u;

struct Level {
  // Which level of the hierarchy this launch works on: 0 is the data itself, 1 its block sums, ...
  level: u32,
  // Offset (in u32) into the count buffer where the level-0 element count lives.
  countOffset: u32,
  // A fixed count to use instead, when countFromBuffer == 0.
  fixedCount: u32,
  countFromBuffer: u32,
}

@group(0) @binding(2) var<uniform> lv: Level;
@group(0) @binding(3) var<storage, read> counts: array<u32>;

fn levelCount() -> u32 {
  var n = select(lv.fixedCount, counts[lv.countOffset], lv.countFromBuffer != 0u);
  for (var l = 0u; l < lv.level; l++) { n = (n + BLOCK - 1u) / BLOCK; }
  return n;
}
`;

export const scanWgsl = /* wgsl */ `
${common}
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> sums: array<u32>;

var<workgroup> sh: array<u32, 256>;

// Each thread scans 4 consecutive elements serially, the workgroup scans the 256 thread totals
// (Hillis-Steele: log2(256) = 8 barrier steps, cheaper than a work-efficient scan at this width),
// and the block total goes to the next level.
@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let n = levelCount();
  let block = wid.x + wid.y * nwg.x;
  // At least one block, so an empty input still writes a total of 0.
  let nblocks = max(1u, (n + BLOCK - 1u) / BLOCK);
  if (block >= nblocks) { return; } // uniform per workgroup: safe before barriers
  let base = block * BLOCK + lid * PER;
  var v: array<u32, 4>;
  var run = 0u;
  for (var i = 0u; i < PER; i++) {
    let idx = base + i;
    var x = 0u;
    if (idx < n) { x = data[idx]; }
    v[i] = run;
    run += x;
  }
  sh[lid] = run;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var t = 0u;
    if (lid >= off) { t = sh[lid - off]; }
    workgroupBarrier();
    sh[lid] += t;
    workgroupBarrier();
  }
  var excl = 0u;
  if (lid > 0u) { excl = sh[lid - 1u]; }
  for (var i = 0u; i < PER; i++) {
    let idx = base + i;
    if (idx < n) { data[idx] = v[i] + excl; }
  }
  if (lid == WG - 1u) { sums[block] = sh[WG - 1u]; }
}

// Adds each block's scanned offset (from the level above) to its elements.
@compute @workgroup_size(256)
fn add_offsets(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let n = levelCount();
  let block = wid.x + wid.y * nwg.x;
  let nblocks = (n + BLOCK - 1u) / BLOCK;
  if (block >= nblocks || block == 0u) { return; }
  let off = sums[block];
  let base = block * BLOCK + lid * PER;
  for (var i = 0u; i < PER; i++) {
    let idx = base + i;
    if (idx < n) { data[idx] += off; }
  }
}
`;

/** Sum reduction; `T` is `f32` or `u32`. Level 0 reads `src`, later levels reduce partials in place. */
export function reduceWgsl(T: 'f32' | 'u32'): string {
  const zero = T === 'f32' ? '0.0' : '0u';
  return /* wgsl */ `
${common}
@group(0) @binding(0) var<storage, read> src: array<${T}>;
@group(0) @binding(1) var<storage, read_write> dst: array<${T}>;

var<workgroup> sh: array<${T}, 256>;

// Tree reduction in workgroup memory; the pairwise order keeps f32 error at O(log n) ulps rather than O(n).
@compute @workgroup_size(256)
fn reduce_blocks(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let n = levelCount();
  let block = wid.x + wid.y * nwg.x;
  let nblocks = (n + BLOCK - 1u) / BLOCK;
  if (block >= nblocks) { return; }
  var acc: ${T} = ${zero};
  // Strided so that consecutive threads read consecutive addresses (coalesced).
  for (var i = 0u; i < PER; i++) {
    let idx = block * BLOCK + i * WG + lid;
    if (idx < n) { acc += src[idx]; }
  }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] += sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dst[block] = sh[0]; }
}
`;
}
