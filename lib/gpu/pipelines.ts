/**
 * Compute pipelines cached per device, keyed by WGSL source + entry point + override constants.
 * Compiling a pipeline costs milliseconds on Dawn (and seconds on lavapipe), so every kernel call site
 * goes through here instead of creating pipelines itself.
 */

export interface KernelSpec {
  code: string; // WGSL source
  entryPoint: string;
  /** WGSL `override` constants, e.g. workgroup sizes. */
  constants?: Record<string, number>;
  label?: string;
}

const caches = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
const modules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

export function kernelKey(spec: KernelSpec): string {
  const consts = spec.constants
    ? Object.keys(spec.constants)
        .sort()
        .map((k) => `${k}=${spec.constants![k]}`)
        .join(',')
    : '';
  return `${spec.entryPoint}|${consts}|${spec.code}`;
}

function shaderModule(device: GPUDevice, code: string, label?: string): GPUShaderModule {
  let m = modules.get(device);
  if (!m) modules.set(device, (m = new Map()));
  let mod = m.get(code);
  if (!mod) m.set(code, (mod = device.createShaderModule({ code, label })));
  return mod;
}

const checked = new WeakMap<GPUShaderModule, Promise<string | null>>();

/**
 * The compile errors of a module, asked for once per module: several entry points share a module, and
 * Chromium never settles a second getCompilationInfo() on the same module (the pipeline compile hung).
 */
function compileErrors(mod: GPUShaderModule, code: string): Promise<string | null> {
  let p = checked.get(mod);
  if (!p) checked.set(mod, (p = queryCompileErrors(mod, code)));
  return p;
}

/** Formats WGSL compile errors with the offending source lines, so a kernel bug reads like a compiler error. */
async function queryCompileErrors(mod: GPUShaderModule, code: string): Promise<string | null> {
  const info = await mod.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length === 0) return null;
  const lines = code.split('\n');
  return errors.map((e) => `  line ${e.lineNum}:${e.linePos}: ${e.message}\n    ${lines[e.lineNum - 1]?.trim() ?? ''}`).join('\n');
}

/** The pipeline for `spec` on `device`, compiled once. A WGSL error rejects with the source lines named. */
export function getPipeline(device: GPUDevice, spec: KernelSpec): Promise<GPUComputePipeline> {
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const key = kernelKey(spec);
  let p = cache.get(key);
  if (!p) {
    // The error scope keeps a bad kernel from also surfacing as an uncaptured device error: the
    // rejection below already carries the message with its source line.
    device.pushErrorScope('validation');
    const mod = shaderModule(device, spec.code, spec.label);
    const scope = device.popErrorScope();
    p = (async () => {
      await scope;
      const errs = await compileErrors(mod, spec.code);
      if (errs) throw new Error(`WGSL compile error in ${spec.label ?? spec.entryPoint}:\n${errs}`);
      return device.createComputePipelineAsync({
        label: spec.label ?? spec.entryPoint,
        layout: 'auto',
        compute: { module: mod, entryPoint: spec.entryPoint, constants: spec.constants },
      });
    })();
    p.catch(() => cache!.delete(key));
    cache.set(key, p);
  }
  return p;
}

const syncCaches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * The pipeline for `spec`, compiled synchronously on first use: for code that must stay synchronous
 * (tfjs kernels and custom gradients run inside tfjs's synchronous tape). Use only for kernels that CI
 * compiles (a WGSL error here surfaces as an uncaptured device error, not a rejection).
 */
export function getPipelineSync(device: GPUDevice, spec: KernelSpec): GPUComputePipeline {
  let cache = syncCaches.get(device);
  if (!cache) syncCaches.set(device, (cache = new Map()));
  const key = kernelKey(spec);
  let p = cache.get(key);
  if (!p) {
    p = device.createComputePipeline({
      label: spec.label ?? spec.entryPoint,
      layout: 'auto',
      compute: { module: shaderModule(device, spec.code, spec.label), entryPoint: spec.entryPoint, constants: spec.constants },
    });
    cache.set(key, p);
  }
  return p;
}

export type Binding = GPUBuffer | GPUBufferBinding;

/** A bind group for group `group` of `pipeline` with `resources[binding]` at each binding number. */
export function bindGroup(device: GPUDevice, pipeline: GPUComputePipeline, resources: Record<number, Binding>, group = 0): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(group),
    entries: Object.entries(resources).map(([b, r]) => ({
      binding: Number(b),
      // A GPUBufferBinding has a `buffer` field; a GPUBuffer does not.
      resource: 'buffer' in r ? r : { buffer: r },
    })),
  });
}

/**
 * Splits a 1-D launch of `workgroups` into a 2-D grid within `maxPerDim` (65535 by default in WebGPU),
 * since a million Gaussians or ten million sort keys exceed one dimension. Kernels recover the flat id as
 * `wid.x + wid.y * nwg.x`.
 */
export function grid(workgroups: number, maxPerDim = 65535): [number, number] {
  if (workgroups <= maxPerDim) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / maxPerDim);
  return [Math.ceil(workgroups / y), y];
}

export function dispatch1D(pass: GPUComputePassEncoder, workgroups: number): void {
  const [x, y] = grid(workgroups);
  pass.dispatchWorkgroups(x, y);
}
