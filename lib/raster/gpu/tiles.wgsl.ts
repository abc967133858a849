/**
 * Stage 2, tile intersection, in depth-first order so that one stable sort by tile id finishes the job:
 *   1. Gaussians are sorted by depth (radix sort of z's float bits, culled ones last), values = ids;
 *   2. gatherCounts: counts[j] = tilesTouched[id_j] in that order, counts[N] = 0;
 *   3. exclusive scan of counts → offsets; offsets[N] = M, the number of (tile, Gaussian) keys;
 *   4. setup (one thread): clamps M to the key capacity, raises the overflow flag, writes the indirect
 *      dispatch sizes of every pass over keys (no CPU readback on the hot path);
 *   5. emit: key e finds its Gaussian by binary search in the offsets and writes its tile id (and the id);
 *   6. stable radix sort of the tile ids (only ceil(log2(numTiles)) bits), values = emit index;
 *   7. finalize: per sorted key, its Gaussian id, and the tile ranges.
 * Keys of equal tile keep the emit order, which is (depth, id): the lists come out sorted by
 * (tile, depth, id) like a 64-bit (tile | depth) sort, with 4 passes over N + ⌈bits/8⌉ passes over M
 * instead of ⌈(bits + 32)/8⌉ passes over M.
 *
 * The emit index is what the backward pass needs: a Gaussian's keys are contiguous in emit order, so
 * per-(tile, Gaussian) gradient partials written at their emit index are summed per Gaussian by a plain
 * segmented loop, with no atomics. It is not stored per key: the emit pass keeps each Gaussian's first
 * emit index (emitBase, by id), and a key's is that plus its tile's place in the Gaussian's rectangle.
 */
import { frameWgsl } from './frame.js';

export const META = {
  keyArgs: 0, // [3] indirect dispatch for 256-thread passes over keys
  sortArgs: 3, // [3] indirect dispatch for radix blocks over keys
  keys: 6, // keys in use: min(M, capacity)
  total: 7, // M
  overflow: 8, // 1 if M > capacity
  words: 12,
} as const;

export const tilesWgsl = /* wgsl */ `
${frameWgsl}
override SORT_BLOCK: u32 = 4096u;
@group(0) @binding(0) var<uniform> fr: Frame;

// 2: counts[j] = tilesTouched[depthSorted[j]]; counts[N] = 0; and the tile ranges are cleared.
@group(0) @binding(1) var<storage, read> depthSorted: array<u32>;   // [N] Gaussian ids by depth
@group(0) @binding(2) var<storage, read> tilesTouched: array<u32>;  // [N]
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;  // [N + 1]
@group(0) @binding(4) var<storage, read_write> ranges: array<vec2u>; // [numTiles]

@compute @workgroup_size(256)
fn gatherCounts(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = g3.x + g3.y * nwg.x * 256u;
  let n = fr.sizes.x;
  if (j < n) { counts[j] = tilesTouched[depthSorted[j]]; } else if (j == n) { counts[n] = 0u; }
  if (j < fr.dims.z * fr.dims.w) { ranges[j] = vec2u(0u); }
}
`;

export const setupWgsl = /* wgsl */ `
${frameWgsl}
override SORT_BLOCK: u32 = 4096u;
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;      // [N + 1] scanned
@group(0) @binding(2) var<storage, read_write> tileMeta: array<u32>; // META layout

fn split(wgs: u32, at: u32) {
  let x = max(1u, min(wgs, 65535u));
  tileMeta[at] = x;
  tileMeta[at + 1u] = max(1u, (wgs + x - 1u) / x);
  tileMeta[at + 2u] = 1u;
}

@compute @workgroup_size(1)
fn setup() {
  let m = offsets[fr.sizes.x];
  let cap = fr.sizes.w;
  let used = min(m, cap);
  split((used + 255u) / 256u, ${META.keyArgs}u);
  split((used + SORT_BLOCK - 1u) / SORT_BLOCK, ${META.sortArgs}u);
  tileMeta[${META.keys}u] = used;
  tileMeta[${META.total}u] = m;
  tileMeta[${META.overflow}u] = select(0u, 1u, m > cap);
}
`;

/**
 * One thread per key (an indirect dispatch over the GPU-side key count): the key's Gaussian is found by
 * binary search in the offsets (the largest j with offsets[j] ≤ e), its tile from the position within the
 * Gaussian's rectangle. Writes are coalesced, and a Gaussian with many tiles no longer holds up its warp.
 * Two threads first search for the Gaussians of the workgroup's first and last keys; the others then
 * search only between those two (a few Gaussians instead of all N: ~4 dependent loads instead of ~20).
 */
export const emitWgsl = /* wgsl */ `
${frameWgsl}
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> depthSorted: array<u32>;  // [N]
@group(0) @binding(2) var<storage, read> offsets: array<u32>;      // [N + 1]
@group(0) @binding(3) var<storage, read> rects: array<vec2u>;      // [N]
@group(0) @binding(4) var<storage, read_write> tileKeys: array<u32>;   // [capacity]
@group(0) @binding(5) var<storage, read_write> emitGid: array<u32>;    // [capacity]
@group(0) @binding(6) var<storage, read> tileMeta: array<u32>;
@group(0) @binding(7) var<storage, read_write> emitBase: array<u32>;   // [N] by id: the Gaussian's first emit index

var<workgroup> bounds: array<u32, 2>;

// The largest j in [lo, hi) with offsets[j] ≤ e, given offsets[lo] ≤ e < offsets[hi].
fn owner(e: u32, lo0: u32, hi0: u32) -> u32 {
  var lo = lo0;
  var hi = hi0;
  while (hi - lo > 1u) {
    let mid = (lo + hi) >> 1u;
    if (offsets[mid] <= e) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

@compute @workgroup_size(256)
fn emit(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let e = g3.x + g3.y * nwg.x * 256u;
  let m = tileMeta[${META.keys}u];
  let e0 = e - lid;
  if (lid < 2u && e0 < m) {
    // offsets[0] = 0 ≤ e and offsets[N] = M > e for every key e < m.
    bounds[lid] = owner(select(min(e0 + 255u, m - 1u), e0, lid == 0u), 0u, fr.sizes.x);
  }
  workgroupBarrier();
  if (e >= m) { return; }
  // offsets[bounds[0]] ≤ e0 ≤ e, and e ≤ the last key, whose Gaussian's end offsets[bounds[1] + 1] exceeds it.
  let lo = owner(e, bounds[0], bounds[1] + 1u);
  let id = depthSorted[lo];
  let k = e - offsets[lo];
  let r = rects[id];
  let x0 = r.x & 0xffffu; let y0 = r.x >> 16u; let x1 = r.y & 0xffffu;
  let w = x1 - x0;
  let ty = y0 + k / w;
  let tx = x0 + k % w;
  tileKeys[e] = ty * fr.dims.z + tx;
  emitGid[e] = id;
  if (k == 0u) { emitBase[id] = e; }
}
`;

export const finalizeWgsl = /* wgsl */ `
@group(0) @binding(1) var<storage, read> tileMeta: array<u32>;
@group(0) @binding(2) var<storage, read> sortedKeys: array<u32>;   // tile id per sorted key
@group(0) @binding(3) var<storage, read> sortedEmit: array<u32>;   // emit index per sorted key
@group(0) @binding(4) var<storage, read> emitGid: array<u32>;
@group(0) @binding(5) var<storage, read_write> keyGid: array<u32>;   // [capacity] Gaussian id per sorted key
@group(0) @binding(7) var<storage, read_write> ranges: array<vec2u>; // [numTiles] (start, end), zeroed by gatherCounts

@compute @workgroup_size(256)
fn finalize(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = g3.x + g3.y * nwg.x * 256u;
  let m = tileMeta[${META.keys}u];
  if (i >= m) { return; }
  keyGid[i] = emitGid[sortedEmit[i]];
  let t = sortedKeys[i];
  if (i == 0u || sortedKeys[i - 1u] != t) { ranges[t].x = i; }
  if (i + 1u == m || sortedKeys[i + 1u] != t) { ranges[t].y = i + 1u; }
}
`;
