/// <reference lib="dom" />
/**
 * The viewer page (bundled by lib/viewer/server.ts with esbuild; runs in the browser). All rendering is
 * lib/: head parameters → GpuHeadPoser → bind → GaussianRasterizer forward (AvatarRenderer, the training
 * rasterizer's kernels), then a full-screen draw of its output buffer (lib/viewer/present.ts). This file
 * only wires the DOM controls to that state.
 */
import { AvatarRenderer } from '../avatar/gpu-render.js';
import type { BoundGaussians } from '../avatar/gaussians.js';
import { describeAdapter, getGpu } from '../gpu/device.js';
import { GpuProfiler } from '../gpu/timing.js';
import type { HeadParams } from '../head/pose.js';
import { rasterSettings, type BlendMode, type RasterSettings } from '../raster/types.js';
import { fetchAvatar, fetchHeadModel, fetchJson } from './model-fetch.js';
import { DEFAULT_ORBIT, dragOrbit, orbitCamera, zoomOrbit, type Orbit } from './orbit.js';
import { Presenter, quantizeRgba } from './present.js';
import { download } from '../gpu/buffers.js';
import { ROUTES, type AvatarSlot, type FrameSnapshot, type HeadParamsJson, type SequenceJson, type ViewerInfo } from './protocol.js';

const BACKGROUND: [number, number, number] = [1, 1, 1];

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`viewer page: element #${id} is missing`);
  return el as T;
};

const fromJson = (h: HeadParamsJson): HeadParams => ({
  identity: Float32Array.from(h.identity),
  expression: Float32Array.from(h.expression),
  jaw: [h.jaw[0]!, h.jaw[1]!, h.jaw[2]!],
  neck: [h.neck[0]!, h.neck[1]!, h.neck[2]!],
  translation: [h.translation[0]!, h.translation[1]!, h.translation[2]!],
});
const toJson = (p: HeadParams): HeadParamsJson => ({
  identity: Array.from(p.identity),
  expression: Array.from(p.expression),
  jaw: [...p.jaw],
  neck: [...p.neck],
  translation: [...p.translation],
});

/** State the end-to-end test reads (and nothing else depends on). */
interface ViewerHook {
  ready: boolean;
  error: string | null;
  frames: number;
  /** True while a frame is pending or in flight. */
  busy(): boolean;
  snapshot(): FrameSnapshot | null;
  /** The canvas as displayed, RGBA bytes (drawn into a 2D canvas). */
  readCanvas(): { width: number; height: number; rgba: number[] };
  fps: { source: 'timestamp-query' | 'wall-clock'; gpuMs: number | null; fps: number | null };
  /** GPU ms of recent frames (timestamp-query only; at most 1000), for bench/viewer.ts. */
  gpuHistory: number[];
  adapter: string;
  projectLayout: string;
  gaussians: number;
}

const hook: ViewerHook = {
  ready: false,
  error: null,
  frames: 0,
  busy: () => true,
  snapshot: () => null,
  readCanvas: () => ({ width: 0, height: 0, rgba: [] }),
  fps: { source: 'wall-clock', gpuMs: null, fps: null },
  gpuHistory: [],
  adapter: '',
  projectLayout: '',
  gaussians: 0,
};
(window as unknown as { __viewer: ViewerHook }).__viewer = hook;

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  hook.error = e instanceof Error && e.stack ? `${msg}\n${e.stack}` : msg;
  $('status').textContent = `error: ${msg}`;
  console.error(e);
}

async function main(): Promise<void> {
  const status = $('status');
  if (!('gpu' in navigator))
    throw new Error('this browser has no WebGPU (navigator.gpu is undefined); use a recent Chrome/Chromium, or start it with --enable-unsafe-webgpu');
  status.textContent = 'opening WebGPU device…';
  const ctx = await getGpu();
  void ctx.device.lost.then((l) => fail(new Error(`WebGPU device lost (${l.reason}): ${l.message}`)));
  $('adapter').textContent = `${describeAdapter(ctx.report)}; ${ctx.report.limits.maxStorageBuffersPerShaderStage} storage buffers per stage`;
  status.textContent = 'loading head model and avatar…';
  const [info, head, seq] = await Promise.all([fetchJson<ViewerInfo>(ROUTES.info), fetchHeadModel(), fetchJson<SequenceJson>(ROUTES.sequence)]);
  const avatars = new Map<AvatarSlot, BoundGaussians>();
  const loadAvatar = async (slot: AvatarSlot) => {
    let g = avatars.get(slot);
    if (!g) avatars.set(slot, (g = (await fetchAvatar(slot, head)).avatar));
    return g;
  };
  const first = await loadAvatar('original');

  const W = info.width,
    H = info.height;
  const canvas = $<HTMLCanvasElement>('view');
  // Presentation: straight from the GPU into a WebGPU canvas (default), or `?present=readback`: read the
  // frame back and put it on a 2D canvas. The second works where WebGPU canvases do not reach the screen
  // (headless Chromium on software Vulkan, where the end-to-end test runs); it quantises the same way
  // (round(255·clamp(c))) so both show the same bytes.
  const readback = new URLSearchParams(location.search).get('present') === 'readback';
  let show: (image: GPUBuffer) => Promise<void>;
  if (readback) {
    const c2d = canvas.getContext('2d');
    if (!c2d) throw new Error('canvas.getContext("2d") returned null');
    const pixels = new ImageData(W, H);
    show = async (image) => {
      const f = await download(ctx.device, image, Float32Array, W * H * 5);
      quantizeRgba(f, pixels.data);
      c2d.putImageData(pixels, 0, 0);
    };
  } else {
    const gpuCanvas = canvas.getContext('webgpu');
    if (!gpuCanvas) throw new Error('canvas.getContext("webgpu") returned null');
    const format = navigator.gpu.getPreferredCanvasFormat();
    gpuCanvas.configure({ device: ctx.device, format, alphaMode: 'opaque' });
    const presenter = new Presenter(ctx, format);
    show = async (image) => presenter.draw(gpuCanvas, image, W, H);
  }
  $('present').textContent = readback ? 'presented by readback to a 2D canvas' : 'presented from the GPU (WebGPU canvas)';

  const renderer = new AvatarRenderer(ctx, head, first);
  let slot: AvatarSlot = 'original';
  let blend: BlendMode = 'alpha';
  let shDegree = first.shDegree;
  let settings: RasterSettings = rasterSettings({ shDegree, blend, background: BACKGROUND });
  status.textContent = `compiling kernels (projection: ${renderer.projectLayout})…`;
  await renderer.prepare(settings, { forwardOnly: true });

  // --- parameters and controls ---------------------------------------------------------------
  const identity = seq.frames[0]?.identity ?? new Array(20).fill(0);
  let params: HeadParams = fromJson({ identity, expression: new Array(53).fill(0), jaw: [0, 0, 0], neck: [0, 0, 0], translation: [0, 0, 0] });
  let orbit: Orbit = { ...DEFAULT_ORBIT };
  let dirty = true;
  let playing = false;

  const exprInputs: HTMLInputElement[] = [];
  const exprValues: HTMLSpanElement[] = [];
  const slider = (parent: HTMLElement, id: string, label: string, min: number, max: number, step: number, onInput: (v: number) => void) => {
    const row = document.createElement('label');
    row.className = 'slider';
    row.innerHTML = `<span>${label}</span><input type="range" id="${id}" min="${min}" max="${max}" step="${step}" value="0"><span class="small">0</span>`;
    parent.appendChild(row);
    const input = row.querySelector('input')!;
    const shown = row.querySelectorAll('span')[1] as HTMLSpanElement;
    input.addEventListener('input', () => {
      const v = Number(input.value);
      shown.textContent = v.toFixed(2);
      playing = false;
      $('play').textContent = 'play';
      onInput(v);
      dirty = true;
    });
    return { input, shown };
  };
  head.expressionNames.forEach((name, i) => {
    const s = slider($('exprs'), `expr-${name}`, name, 0, 1, 0.01, (v) => (params.expression[i] = v));
    exprInputs.push(s.input);
    exprValues.push(s.shown);
  });
  const pose = $('pose');
  const poseSliders = [
    slider(pose, 'jaw', 'jaw open (rad)', -0.05, 0.5, 0.005, (v) => (params.jaw = [v, 0, 0])),
    slider(pose, 'neck-pitch', 'head pitch (rad)', -0.6, 0.6, 0.01, (v) => (params.neck = [v, params.neck[1], params.neck[2]])),
    slider(pose, 'neck-yaw', 'head yaw (rad)', -0.8, 0.8, 0.01, (v) => (params.neck = [params.neck[0], v, params.neck[2]])),
    slider(pose, 'neck-roll', 'head roll (rad)', -0.5, 0.5, 0.01, (v) => (params.neck = [params.neck[0], params.neck[1], v])),
  ];
  const syncControls = () => {
    exprInputs.forEach((inp, i) => {
      inp.value = String(params.expression[i]);
      exprValues[i]!.textContent = params.expression[i]!.toFixed(2);
    });
    const pv = [params.jaw[0], params.neck[0], params.neck[1], params.neck[2]];
    poseSliders.forEach((s, i) => {
      s.input.value = String(pv[i]);
      s.shown.textContent = pv[i]!.toFixed(2);
    });
  };

  const frameInput = $<HTMLInputElement>('frame');
  let frameIndex = 0;
  let frameClock = 0; // seconds into the sequence
  const showFrame = (i: number) => {
    if (seq.frames.length === 0) return;
    frameIndex = ((i % seq.frames.length) + seq.frames.length) % seq.frames.length;
    params = fromJson(seq.frames[frameIndex]!);
    frameInput.value = String(frameIndex);
    $('frame-value').textContent = String(frameIndex);
    syncControls();
    dirty = true;
  };
  frameInput.addEventListener('input', () => {
    playing = false;
    $('play').textContent = 'play';
    showFrame(Number(frameInput.value));
    frameClock = frameIndex / seq.fps;
  });
  // `?play=1` starts playing the sequence (bench/viewer.ts).
  if (new URLSearchParams(location.search).get('play') === '1' && seq.frames.length > 0) playing = true;
  $('play').addEventListener('click', () => {
    playing = !playing && seq.frames.length > 0;
    $('play').textContent = playing ? 'pause' : 'play';
    frameClock = frameIndex / seq.fps;
  });
  $('reset').addEventListener('click', () => {
    params = fromJson({ identity, expression: new Array(53).fill(0), jaw: [0, 0, 0], neck: [0, 0, 0], translation: [0, 0, 0] });
    orbit = { ...DEFAULT_ORBIT };
    syncControls();
    dirty = true;
  });
  const setSettings = async (next: Partial<RasterSettings>) => {
    settings = rasterSettings({ shDegree, blend, background: BACKGROUND, ...next });
    await renderer.prepare(settings, { forwardOnly: true });
    dirty = true;
  };
  for (const b of ['alpha', 'wabe'] as const) {
    $(`blend-${b}`).addEventListener('change', () => {
      blend = b;
      setSettings({}).catch(fail);
    });
  }
  for (const s of ['original', 'edited'] as const) {
    $(`avatar-${s}`).addEventListener('change', () => {
      (async () => {
        const g = await loadAvatar(s);
        slot = s;
        shDegree = g.shDegree;
        renderer.setGaussians(g);
        await setSettings({});
      })().catch(fail);
    });
  }
  const continuous = $<HTMLInputElement>('continuous');
  // `?continuous=1` starts in continuous rendering (for measuring fps).
  if (new URLSearchParams(location.search).get('continuous') === '1') continuous.checked = true;

  // Orbit: drag and wheel.
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    orbit = dragOrbit(orbit, e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
    dirty = true;
  });
  canvas.addEventListener('pointerup', () => (drag = null));
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      orbit = zoomOrbit(orbit, e.deltaY);
      dirty = true;
    },
    { passive: false },
  );

  // --- frame loop ----------------------------------------------------------------------------
  // GPU time per frame from timestamp queries around every pass (pose, bind, each rasterizer stage);
  // without the feature, frames per second of wall clock between completed frames (rAF-paced).
  const profiler = ctx.has.timestampQuery ? new GpuProfiler(ctx, 256) : null;
  hook.fps.source = profiler ? 'timestamp-query' : 'wall-clock';
  $('fps-source').textContent = profiler
    ? 'GPU time per frame, timestamp-query (pose + bind + rasterize; excludes the canvas copy)'
    : 'wall clock between frames (requestAnimationFrame; this adapter has no timestamp-query)';
  let inFlight = false;
  let lastSnapshot: FrameSnapshot | null = null;
  let wallFrames = 0;
  let wallStart = performance.now();
  let lastTick = performance.now();

  const renderFrame = async () => {
    const cam = orbitCamera(orbit, W, H);
    const p = params;
    const used = { settings, slot };
    const before = renderer.stats.overflowFrames;
    profiler?.begin();
    const st = await renderer.render(p, cam, used.settings, profiler ?? undefined);
    const shown = show(st.image);
    if (profiler) {
      const t = await profiler.read();
      hook.fps.gpuMs = t.totalMs;
      hook.gpuHistory.push(t.totalMs);
      if (hook.gpuHistory.length > 1000) hook.gpuHistory.shift();
      hook.fps.fps = 1000 / t.totalMs;
      $('fps').textContent = `${hook.fps.fps.toFixed(1)} fps (${t.totalMs.toFixed(2)} ms GPU)`;
    } else {
      await ctx.device.queue.onSubmittedWorkDone();
      wallFrames++;
      const now = performance.now();
      if (now - wallStart > 500) {
        hook.fps.fps = (1000 * wallFrames) / (now - wallStart);
        $('fps').textContent = `${hook.fps.fps.toFixed(1)} fps (wall clock)`;
        wallFrames = 0;
        wallStart = now;
      }
    }
    await shown;
    await renderer.settle();
    // A frame that ran out of tile-key capacity was drawn incomplete; capacity has grown, draw it again.
    if (renderer.stats.overflowFrames !== before) dirty = true;
    lastSnapshot = {
      params: toJson(p),
      camera: { ...cam, worldToCamera: Array.from(cam.worldToCamera) },
      blend: used.settings.blend,
      avatar: used.slot,
      shDegree: used.settings.shDegree,
      background: [...BACKGROUND],
    };
    hook.frames++;
  };

  const tick = (now: number) => {
    requestAnimationFrame(tick);
    const dt = Math.min(0.25, (now - lastTick) / 1000);
    lastTick = now;
    if (playing && seq.frames.length > 0) {
      frameClock += dt;
      const i = Math.floor(frameClock * seq.fps) % seq.frames.length;
      if (i !== frameIndex) showFrame(i);
    }
    if (inFlight || !(dirty || continuous.checked)) return;
    dirty = false;
    inFlight = true;
    renderFrame()
      .catch(fail)
      .finally(() => (inFlight = false));
  };
  hook.busy = () => dirty || inFlight;
  hook.snapshot = () => lastSnapshot;
  hook.readCanvas = () => {
    const c2 = document.createElement('canvas');
    c2.width = W;
    c2.height = H;
    const g2 = c2.getContext('2d')!;
    g2.drawImage(canvas, 0, 0);
    return { width: W, height: H, rgba: Array.from(g2.getImageData(0, 0, W, H).data) };
  };
  syncControls();
  status.textContent = `${renderer.count.toLocaleString('en')} Gaussians; projection ${renderer.projectLayout}; ${info.sequence ? `sequence of ${info.sequence.frames} frames` : 'no sequence'}`;
  hook.adapter = describeAdapter(ctx.report);
  hook.projectLayout = renderer.projectLayout;
  hook.gaussians = renderer.count;
  hook.ready = true;
  requestAnimationFrame(tick);
}

main().catch(fail);
