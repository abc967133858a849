/**
 * GPU self-check: opens the WebGPU device, prints the adapter, runs a prefix-sum kernel and a tfjs
 * matMul on the GPU and checks both against plain TypeScript. Exit code 1 on any mismatch.
 *   gae selfcheck [--require-hardware]
 */
import { getGpu, describeAdapter, exclusiveScan, gpuSum, releaseGpu } from '../gpu/index.js';
import { useTfjsWebGpu, tf } from '../gpu/tfjs.js';
import { Rng } from '../util/random.js';

const requireHardware = process.argv.includes('--require-hardware');

async function main(): Promise<number> {
  const ctx = await getGpu({ requireHardware });
  console.log(`adapter: ${describeAdapter(ctx.report)}`);
  console.log(JSON.stringify(ctx.report, null, 2));
  let ok = true;

  const rng = new Rng(1);
  const n = 1_000_003; // not a multiple of the workgroup or block size
  const input = new Uint32Array(n).map(() => rng.int(1000));
  let t0 = performance.now();
  const { scanned, total } = await exclusiveScan(ctx, input);
  const scanMs = performance.now() - t0;
  let acc = 0;
  let scanErrors = 0;
  for (let i = 0; i < n; i++) {
    if (scanned[i] !== acc) scanErrors++;
    acc += input[i]!;
  }
  if (total !== acc) scanErrors++;
  console.log(`exclusive scan of ${n} u32: total ${total} (expected ${acc}), ${scanErrors} mismatches, ${scanMs.toFixed(1)} ms incl. upload/readback`);
  ok &&= scanErrors === 0;

  const f = new Float32Array(n).map(() => rng.normal());
  const gsum = await gpuSum(ctx, f);
  const ref = f.reduce((a, b) => a + b, 0);
  const relSum = Math.abs(gsum - ref) / f.reduce((a, b) => a + Math.abs(b), 0);
  console.log(`sum of ${n} f32: ${gsum.toFixed(4)} (float64 ${ref.toFixed(4)}), |err|/Σ|x| = ${relSum.toExponential(2)}`);
  ok &&= relSum < 1e-6;

  await useTfjsWebGpu();
  const m = 256;
  const a = tf.randomNormal([m, m], 0, 1, 'float32', 3);
  const b = tf.randomNormal([m, m], 0, 1, 'float32', 4);
  t0 = performance.now();
  const c = (await tf.matMul(a, b).data()) as Float32Array;
  const mmMs = performance.now() - t0;
  const A = (await a.data()) as Float32Array;
  const B = (await b.data()) as Float32Array;
  let maxErr = 0;
  for (let i = 0; i < m; i += 17) {
    for (let j = 0; j < m; j += 13) {
      let s = 0;
      for (let k = 0; k < m; k++) s += A[i * m + k]! * B[k * m + j]!;
      maxErr = Math.max(maxErr, Math.abs(s - c[i * m + j]!));
    }
  }
  console.log(`tfjs backend '${tf.getBackend()}': matMul ${m}x${m} max |err| vs float64 = ${maxErr.toExponential(2)} (${mmMs.toFixed(1)} ms)`);
  ok &&= tf.getBackend() === 'webgpu' && maxErr < 1e-3;

  console.log(ok ? 'selfcheck: OK' : 'selfcheck: FAILED');
  return ok ? 0 : 1;
}

main()
  .then(async (code) => {
    await releaseGpu();
    process.exit(code);
  })
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
