/**
 * The editing loop: Instruct-NeRF2NeRF's iterative dataset update on a reconstructed Gaussian avatar, with
 * the two additions of GaussianAvatar-Editor (docs/method.md §3–§5):
 *
 *   every `editEvery` steps: render the next view (camera × timestep) of the current avatar, ask the 2D
 *     editor for an edit of it (instruction, the captured image as conditioning, a sampled denoise
 *     strength) and let it replace that view's target;
 *   every step: render a random view, blended with WABE when enabled (so occluded Gaussians, e.g. teeth
 *     behind lips, receive exp(−β(1 − T))-damped gradients), and take an Adam step on the moving parameter
 *     groups against (1 − λ)·L1 + λ·D-SSIM to the view's current target, plus λ_adv times the conditional
 *     generator loss once the adversarial warm-up is over; then one discriminator step.
 *
 * The 2D edits go through the content-addressed cache, so every arm of an ablation sees identical edits for
 * identical requests and a checkpoint needs to store only each view's cache key. A killed run resumes from
 * its last checkpoint and then gives the same result as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import type { GpuContext } from '../gpu/device.js';
import { prepareRasterize, rasterize } from '../raster/rasterize.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { loadHeadModel, Material, type HeadModel } from '../head/model.js';
import { writeFileAtomic } from '../util/atomic.js';
import { renderedTriangles } from '../head/atlas.js';
import { frameId, loadFrameRgb, type DatasetFrame } from '../data/dataset.js';
import { DatasetEditGroundTruth } from './editors/ground-truth.js';
import { AvatarModel, PARAM_GROUPS, type ParamGroup, type PoseFrames } from '../avatar/model.js';
import { readAvatarPly, writeAvatarPly } from '../avatar/io.js';
import { loadAvatar } from '../avatar/load.js';
import { AvatarSession } from '../avatar/session.js';
import { nextView } from '../train/recon.js';
import { renderModel, warmRasterizer } from '../train/evaluate.js';
import { stratifiedSample } from '../data/sampling.js';
import { Adam, adamFromBlobs, adamToBlobs, type AdamMoments, type AdamState } from '../train/adam.js';
import { packBlobs, unpackBlobs, type Blobs } from '../util/blobs.js';
import { imageLoss } from '../train/image-loss.js';
import { assertFiniteVars } from '../train/finite.js';
import type { CheckpointRef, RunDir } from '../train/rundir.js';
import { driveRun, type RunLoop, type RunOptions, type StepContext } from '../train/driver.js';
import { Adversary, type AdversaryState } from '../adversarial/adversary.js';
import { Rng } from '../util/random.js';
import type { RgbImage } from '../util/image.js';
import { editSpec } from '../head/edits.js';
import { EDITS_IN_FLIGHT, editRequest, sampleStrength, type EditRequest, type ImageEditor } from './editors/editor.js';
import { OfflineEditor, OracleEditor, IdentityEditor } from './editors/offline.js';
import { HfImageEditor } from './editors/hf.js';
import { CachedEditor, editCacheKey } from './editors/cache.js';
import { EditQueue } from './edit-queue.js';
import { shownBlend, strengthRangeOf, trainBlend, type EditConfig } from './config.js';

export interface EditOptions extends RunOptions {
  /** Replaces the editor the config names (tests, custom editors); it is still wrapped in the cache. */
  editor?: ImageEditor;
  /** Called after each view of the initial pass (which edits every view before the first step). */
  onInitialEdit?: (done: number, total: number) => void;
  /**
   * 2D edits requested before earlier answers are applied (default EDITS_IN_FLIGHT): the initial pass's, and
   * without the adversary the iterative update's, whose targets apply before their view is next trained on
   * (edit-queue.ts). Wall time only, never results, hence an option and not part of the run's config; 1 waits
   * for each answer, as Instruct-NeRF2NeRF does.
   */
  editsInFlight?: number;
}

export interface EditSummary {
  runDir: string;
  steps: number;
  /** 2D edits requested (cache hits included). */
  edits: number;
  seconds: number;
  /** Of `seconds`, the time spent rendering for and waiting on the 2D editor. */
  editSeconds: number;
  cache: { hits: number; misses: number };
  resumedFrom: number | null;
}

interface EditState {
  step: number;
  rngState: number;
  /** Views (indices into the edited dataset) still to visit this epoch, for optimisation and for edits. */
  viewStack: number[];
  editStack: number[];
  edits: number;
  /** Cache key of each edited view's current target. */
  targets: Record<string, string>;
}

/** The editor's seed for the run's `edits`-th 2D edit (0-based): distinct per edit, fixed by the run's seed. */
export function editSeed(runSeed: number, edits: number): number {
  return (Math.imul(runSeed + 1, 0x9e3779b1) + edits) >>> 0;
}

/** The 2D edit request for a view: the current render in, the captured image as conditioning (method.md §3). */
export function viewEditRequest(
  config: EditConfig,
  subject: string,
  frame: DatasetFrame,
  image: RgbImage,
  original: RgbImage,
  seed: number,
  strength: number,
): EditRequest {
  return editRequest({
    image,
    original,
    instruction: instructionOf(config),
    seed,
    guidanceScale: config.editor.guidanceScale,
    imageGuidanceScale: config.editor.imageGuidanceScale,
    strength,
    view: { subject, camera: frame.cameraIndex, timestep: frame.timestep },
  });
}

/** The instruction of a config: its own, or the edit's prompt. */
export function instructionOf(config: EditConfig): string {
  return config.edit.instruction ?? editSpec(config.edit.id).prompt;
}

/** The editor a config names (without the cache). */
export function makeEditor(config: EditConfig, ctx: GpuContext, session: Pick<AvatarSession, 'dataset'>): ImageEditor {
  const e = config.editor;
  switch (e.kind) {
    case 'offline':
      // Unset, the editor's structured failures are seeded by the run's seed, so seeds sample editors too.
      return new OfflineEditor(new DatasetEditGroundTruth(ctx, session.dataset, 'train'), { ...e.offline, seed: e.offline.seed ?? config.seed });
    case 'oracle':
      return new OracleEditor(new DatasetEditGroundTruth(ctx, session.dataset, 'train'));
    case 'identity':
      return new IdentityEditor();
    case 'hf':
      return new HfImageEditor({ model: e.model, timeoutMs: e.timeoutMs, maxRetries: e.maxRetries, ...(e.endpointUrl ? { endpointUrl: e.endpointUrl } : {}) });
  }
}

/** Average-pools an image by an integer factor (floor of the size, as tfjs's 'valid' pooling). */
export function poolImage(img: RgbImage, f: number): RgbImage {
  if (f === 1) return img;
  const w = Math.floor(img.width / f);
  const h = Math.floor(img.height / f);
  const out = new Float32Array(w * h * 3);
  const inv = 1 / (f * f);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += img.data[3 * ((y * f + dy) * img.width + x * f + dx) + c]!;
        out[3 * (y * w + x) + c] = s * inv;
      }
  return { width: w, height: h, data: out };
}

function poolTensor(x: tf.Tensor3D, f: number): tf.Tensor3D {
  if (f === 1) return x;
  return tf.squeeze(tf.avgPool(tf.expandDims(x, 0) as tf.Tensor4D, f, f, 'valid'), [0]) as tf.Tensor3D;
}

/** One render of `avatar` (no gradient), read back. */
export async function renderAvatar(avatar: AvatarModel, frames: PoseFrames, frame: Pick<DatasetFrame, 'camera'>, settings: RasterSettings): Promise<RgbImage> {
  return (await renderModel(avatar, frames, frame.camera, settings)).color;
}

/** How the edited avatar is rendered (for the editor, the evaluation, the figures): see `wabe.renderEdited`. */
export function editedRenderSettings(config: EditConfig, plain: RasterSettings): RasterSettings {
  return { ...plain, ...shownBlend(config) };
}

/** The edited dataset: the training split's views, stratified over cameras × timesteps (lib/data/sampling.ts). */
export function editViews(session: AvatarSession, config: EditConfig): DatasetFrame[] {
  return stratifiedSample(session.dataset.splits.train.frames, config.views.maxViews, config.seed);
}

function learningRates(config: EditConfig): Record<ParamGroup, number> {
  const moving = new Set(config.optimize);
  return Object.fromEntries(PARAM_GROUPS.map((g) => [g, moving.has(g) ? config.lr[g] : 0])) as Record<ParamGroup, number>;
}

function adversaryBlobs(s: AdversaryState): { meta: unknown; blobs: Blobs } {
  const blobs: Blobs = {};
  for (const [k, v] of Object.entries(s.tensors)) blobs[`d/${k}`] = v;
  s.optimizer.forEach((w, i) => (blobs[`opt/${i}`] = w));
  const pool = s.pool.map((e, i) => {
    blobs[`pool/${i}/target`] = { shape: [e.target.height, e.target.width, 3], data: e.target.data };
    blobs[`pool/${i}/condition`] = { shape: [e.condition.height, e.condition.width, 3], data: e.condition.data };
    return { camera: e.camera, timestep: e.timestep, stamp: e.stamp };
  });
  return {
    meta: { steps: s.steps, poolRng: s.poolRng, pool, tensors: Object.keys(s.tensors), optimizer: s.optimizer.length, accBeta: s.accBeta ?? null },
    blobs,
  };
}

function adversaryFromBlobs(
  meta: {
    steps: number;
    poolRng: number;
    pool: { camera: number; timestep: number; stamp: number }[];
    tensors: string[];
    optimizer: number;
    accBeta?: [number, number] | null;
  },
  b: Blobs,
): AdversaryState {
  const img = (x: { shape: number[]; data: Float32Array }): RgbImage => ({ width: x.shape[1]!, height: x.shape[0]!, data: x.data });
  return {
    steps: meta.steps,
    poolRng: meta.poolRng,
    tensors: Object.fromEntries(meta.tensors.map((k) => [k, b[`d/${k}`]!])),
    optimizer: Array.from({ length: meta.optimizer }, (_, i) => b[`opt/${i}`]!),
    pool: meta.pool.map((e, i) => ({ ...e, target: img(b[`pool/${i}/target`]!), condition: img(b[`pool/${i}/condition`]!) })),
    ...(meta.accBeta ? { accBeta: meta.accBeta } : {}),
  };
}

/** One discriminator/generator record per optimisation step (`adversary.jsonl`); null where not computed. */
export interface AdversaryLogRow {
  step: number;
  /** λ_adv · (−mean D(fake)), the term added to the avatar's loss; null during the warm-up. */
  generator: number | null;
  /** Hinge loss, mean D(real) and mean D(fake) before that step's discriminator update. */
  dLoss: number | null;
  dReal: number | null;
  dFake: number | null;
}

/** Keeps the rows of a JSON-lines file with `step` ≤ `step` (a resumed run rewrites what follows). */
async function truncateJsonLines(file: string, step: number): Promise<void> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return;
  const rows = text.split('\n').filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step <= step);
  await writeFileAtomic(file, rows.map((l) => l + '\n').join(''));
}

/** The Gaussians bound to the mouth interior (teeth, gums and tongue triangles), which WABE exists for. */
export function mouthInteriorGaussians(head: Pick<HeadModel, 'faceMaterial'>, binding: Int32Array): Int32Array {
  const mouth = new Set<number>([Material.M_Teeth, Material.M_GumsTongue]);
  const out: number[] = [];
  binding.forEach((t, n) => {
    if (mouth.has(head.faceMaterial[t]!)) out.push(n);
  });
  return Int32Array.from(out);
}

/**
 * Per parameter group: the RMS over Gaussians of the gradient's and of the Adam update's L2 norm, for the
 * mouth-interior Gaussians and for all. It shows what WABE does to the teeth (the gradient is damped) and what
 * Adam does with that (the update is not, when every view damps it alike: docs/editing.md, WABE and Adam).
 */
class GroupNorms {
  private readonly mouth: tf.Tensor1D | null;

  constructor(
    private readonly groups: readonly ParamGroup[],
    mouthIdx: Int32Array,
  ) {
    this.mouth = mouthIdx.length > 0 ? tf.tensor1d(mouthIdx, 'int32') : null;
  }

  /** Call before the optimiser step with its gradients; call `after` on the result once it stepped. */
  before(vars: Record<ParamGroup, tf.Variable>, grads: Record<string, tf.Tensor>) {
    const rms = (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => (x.size === 0 ? tf.scalar(0) : (tf.sqrt(tf.mean(tf.sum(tf.square(tf.reshape(x, [x.shape[0]!, -1])), 1))) as tf.Scalar)));
    const rmsMouth = (x: tf.Tensor): tf.Scalar | null => (this.mouth ? tf.tidy(() => rms(tf.gather(x, this.mouth!))) : null);
    const snap = this.groups.map((g) => ({ all: vars[g].clone(), grad: rms(grads[g]!), gradMouth: rmsMouth(grads[g]!) }));
    return {
      after: async (now: Record<ParamGroup, tf.Variable>): Promise<Record<string, number | null>> => {
        const out: Record<string, number | null> = {};
        const read = async (x: tf.Scalar | null) => (x ? (await x.data())[0]! : null);
        for (const [i, g] of this.groups.entries()) {
          const s = snap[i]!;
          const d = tf.sub(now[g], s.all);
          const upd = rms(d);
          const updMouth = rmsMouth(d);
          out[`grad.all.${g}`] = await read(s.grad);
          out[`update.all.${g}`] = await read(upd);
          out[`grad.mouth.${g}`] = await read(s.gradMouth);
          out[`update.mouth.${g}`] = await read(updMouth);
          tf.dispose([d, s.all, s.grad, upd, ...(s.gradMouth ? [s.gradMouth] : []), ...(updMouth ? [updMouth] : [])]);
        }
        return out;
      },
    };
  }

  dispose(): void {
    this.mouth?.dispose();
  }
}

/**
 * Edits (or resumes editing) an avatar into `opts.runDir`: config.json, metrics.jsonl, checkpoints with the
 * edited avatar.ply. Evaluation is separate (evaluate.ts), so a finished edit can be scored many ways.
 */
export async function editAvatar(config: EditConfig, opts: EditOptions): Promise<EditSummary> {
  const ctx = await useTfjsWebGpu();
  let counts: () => { edits: number; editSeconds: number; cache: EditSummary['cache'] } = () => ({ edits: 0, editSeconds: 0, cache: { hits: 0, misses: 0 } });
  const r = await driveRun(
    {
      config,
      meta: { adapter: ctx.report },
      what: 'editing',
      start: async (run, latest) => {
        const e = await editLoop(run, latest, config, ctx, opts);
        counts = e.counts;
        return e.loop;
      },
    },
    opts,
  );
  const c = counts();
  return { runDir: r.run.root, steps: r.steps, edits: c.edits, seconds: r.seconds, editSeconds: c.editSeconds, cache: c.cache, resumedFrom: r.resumedFrom };
}

/** The editing loop's state, step and checkpoints, started fresh or from `latest`. */
async function editLoop(
  run: RunDir,
  latest: CheckpointRef | null,
  config: EditConfig,
  ctx: GpuContext,
  opts: EditOptions,
): Promise<{ loop: RunLoop; counts: () => { edits: number; editSeconds: number; cache: EditSummary['cache'] } }> {
  const log = opts.log ?? (() => {});
  const original = await loadAvatar(config.avatar);
  const session = await AvatarSession.open(config.data, original);
  const unedited = config.adversarial.enabled ? new AvatarModel(original) : null;
  const editor = new CachedEditor(opts.editor ?? makeEditor(config, ctx, session), config.editor.cacheDir);
  const instruction = instructionOf(config);
  const views = editViews(session, config);
  if (views.length === 0) throw new Error(`${session.dataset.splits.train.file}: no training frames to edit`);
  const subject = session.dataset.meta.subject;
  const background = session.background({ background: null });
  const shDegree = session.avatar.shDegree;
  const plain = rasterSettings({ shDegree, background, blend: 'alpha' });
  const train = rasterSettings({ shDegree, background, ...trainBlend(config) });
  await prepareRasterize(plain);
  await prepareRasterize(train);
  const shown = editedRenderSettings(config, plain);
  const lrs = learningRates(config);
  const adversary = config.adversarial.enabled ? new Adversary(config.adversarial) : null;
  const down = config.adversarialDownsample;

  const targets = new Map<number, tf.Tensor3D>(); // edited targets by view
  const conditions = new Map<number, { cpu: RgbImage; gpu: tf.Tensor3D }>(); // unedited renders, pooled
  let adam = new Adam();
  let st: EditState = { step: 0, rngState: new Rng(config.seed).state, viewStack: [], editStack: [], edits: 0, targets: {} };

  const setTarget = (v: number, img: RgbImage) => {
    targets.get(v)?.dispose();
    targets.set(v, tf.tensor3d(img.data, [img.height, img.width, 3]));
  };
  const conditionOf = async (v: number) => {
    let c = conditions.get(v);
    if (!c) {
      const f = views[v]!;
      const img = poolImage(await renderAvatar(unedited!, session.boundFramesOf(f), f, plain), down);
      c = { cpu: img, gpu: tf.tensor3d(img.data, [img.height, img.width, 3]) };
      conditions.set(v, c);
    }
    return c;
  };

  if (latest) {
    const dir = latest.dir;
    const ply = path.join(dir, 'avatar.ply');
    const head = await loadHeadModel();
    session.avatar.set(readAvatarPly(new Uint8Array(await fs.readFile(ply)), ply, head.triangleCount, renderedTriangles(head)));
    const stateFile = path.join(dir, 'state.json');
    const meta = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { edit: EditState; adam: AdamState['options']; moments: AdamMoments; adversary?: unknown };
    const blobFile = path.join(dir, 'optimizer.bin');
    const blobs = unpackBlobs(new Uint8Array(await fs.readFile(blobFile)), blobFile);
    adam = Adam.fromState(adamFromBlobs(meta.adam, meta.moments, blobs, blobFile));
    st = meta.edit;
    if (adversary && meta.adversary) await adversary.importState(adversaryFromBlobs(meta.adversary as Parameters<typeof adversaryFromBlobs>[0], blobs));
    for (const [v, key] of Object.entries(st.targets)) {
      const f = views[Number(v)]!;
      const img = await editor.cache.get(key, f.camera.width, f.camera.height);
      if (!img)
        throw new Error(`${stateFile}: edit.targets.${v}: the edit cache ${editor.cache.dir} has no entry ${key}; it was deleted, so this run cannot resume`);
      setTarget(Number(v), img);
    }
    // metrics.jsonl is the driver's to truncate; this side log is the loop's.
    await truncateJsonLines(run.file('adversary.jsonl'), st.step);
    log(`resuming ${run.root} from step ${st.step} (${st.edits} edits)`);
  } else {
    log(`editing ${run.root}: "${instruction}" on ${views.length} views, ${session.avatar.count} Gaussians`);
  }

  // After a resume, which replaces the avatar's variables.
  const moving = config.optimize.map((g) => session.avatar.vars[g]);
  const rng = new Rng(0);
  rng.state = st.rngState;
  let editSeconds = 0;

  const strengthRange = strengthRangeOf(config);
  const initialEdits = config.views.initialPass ? views.length : 0;
  const groupNorms = new GroupNorms(config.optimize, mouthInteriorGaussians(session.head, session.avatar.binding));
  /** The adversary's per-step record (adversary.jsonl), written at each log and checkpoint. */
  const advLog: AdversaryLogRow[] = [];
  const advLogFile = run.file('adversary.jsonl');
  const flushAdvLog = async () => {
    if (advLog.length === 0) return;
    await fs.appendFile(advLogFile, advLog.map((r) => JSON.stringify(r) + '\n').join(''));
    advLog.length = 0;
  };
  // Edits in flight (edit-queue.ts): requested at their step, applied in order when the loop needs them.
  const edits = new EditQueue<RgbImage>(opts.editsInFlight ?? EDITS_IN_FLIGHT);
  /**
   * Re-edits view `v` from the current avatar: the iterative dataset update. The render, seed and strength are
   * those of this step; the answer is applied by `edits` (at once when `now`).
   */
  const editView = async (v: number, now: boolean, onApplied?: () => void) => {
    const t0 = performance.now();
    const f = views[v]!;
    // The captured image is read while the render runs.
    const [image, orig] = await Promise.all([renderAvatar(session.avatar, session.boundFramesOf(f), f, shown), loadFrameRgb(f)]);
    const req = viewEditRequest(config, subject, f, image, orig, editSeed(config.seed, st.edits), sampleStrength(rng, strengthRange));
    st.edits++;
    editSeconds += (performance.now() - t0) / 1000;
    await edits.push(
      v,
      () => editor.edit(req),
      async (edited) => {
        st.targets[v] = editCacheKey(editor.describe(), req);
        setTarget(v, edited);
        if (adversary) adversary.addReal(f.cameraIndex, f.timestep, poolImage(edited, down), (await conditionOf(v)).cpu);
        onApplied?.();
      },
    );
    if (now) await edits.settleAll();
  };

  const checkpoint = async (): Promise<Record<string, string | Uint8Array>> => {
    // The state names every requested edit's target, so each must be in place.
    await edits.settleAll();
    const g = await session.avatar.get();
    const { options, moments, blobs } = adamToBlobs(await adam.state());
    let adv: unknown;
    if (adversary) {
      const x = adversaryBlobs(await adversary.exportState());
      adv = x.meta;
      Object.assign(blobs, x.blobs);
    }
    return {
      'avatar.ply': writeAvatarPly(g),
      'optimizer.bin': packBlobs(blobs),
      'state.json': JSON.stringify({ edit: st, adam: options, moments, adversary: adv ?? null }),
    };
  };

  const begin = async () => {
    const first = views[0]!;
    await warmRasterizer(session.avatar, session.boundFramesOf(first), first.camera, train);
    if (st.step === 0 && st.edits === 0 && config.views.initialPass) {
      // The avatar does not change during the pass, so its requests overlap (up to `editsInFlight`).
      let applied = 0;
      for (let v = 0; v < views.length; v++) await editView(v, false, () => opts.onInitialEdit?.(++applied, views.length));
      await edits.settleAll();
      log(`initial pass: ${views.length} views edited (${editor.stats.hits} cached)`);
    }
  };

  const step = async (step: number, { logNow, logMetrics }: StepContext) => {
    // With the adversary, every step samples the pool that an edit feeds, so its edits apply at once.
    if (step % config.editEvery === 0 && !(config.views.initialPass && step === 0))
      await editView(nextView(rng, st.editStack, views.length), adversary !== null);
    const v = nextView(rng, st.viewStack, views.length);
    const f = views[v]!;
    await edits.settle(v);
    const target = targets.get(v) ?? (await session.target(f));
    const frames = session.boundFramesOf(f);
    // D trains from the first step after the initial pass; the generator term joins after the warm-up,
    // counted in 2D edits of the iterative update (the initial pass's edits fill the pool, they are no
    // training of D), so it never starts against an untrained discriminator.
    const pooled = adversary !== null && adversary.pool.candidates(f.cameraIndex, f.timestep).length > 0;
    const genOn = pooled && adversary!.active(st.edits - initialEdits);
    const cond = pooled ? await conditionOf(v) : null;
    const kept: { l1: tf.Scalar | null; adv: tf.Scalar | null; fake: tf.Tensor3D | null } = { l1: null, adv: null, fake: null };
    const { value, grads } = tf.variableGrads(() => {
      const out = rasterize(session.avatar.world(frames), f.camera, train);
      tf.dispose([out.radii, out.nContrib]);
      const img = imageLoss(out.color, target, config.loss.lambdaDssim);
      img.ssim.dispose();
      let total: tf.Scalar = img.total;
      if (cond) {
        const pooledColor = poolTensor(out.color, down);
        kept.fake = tf.keep(pooledColor.clone());
        if (genOn) {
          const adv = adversary!.generatorLoss(pooledColor, cond.gpu);
          kept.adv = tf.keep(adv.clone());
          total = total.add(adv) as tf.Scalar;
        }
      }
      if (logNow) kept.l1 = tf.keep(img.l1);
      return total;
    }, moving);
    const byName: Record<string, tf.Tensor> = {};
    for (const g of config.optimize) byName[g] = grads[session.avatar.vars[g].name]!;
    const norms = logNow ? groupNorms.before(session.avatar.vars, byName) : null;
    adam.apply(session.avatar.vars, byName, lrs);
    const normValues = norms ? await norms.after(session.avatar.vars) : {};
    await assertFiniteVars(session.avatar.vars, step + 1, run.root, { grads: byName, view: frameId(f) });
    tf.dispose(Object.values(grads));
    let dStep: { loss: number; realScore: number; fakeScore: number } | null = null;
    if (cond && kept.fake && step % config.adversarial.dEvery === 0) {
      dStep = await adversary!.step({ image: kept.fake, condition: cond.gpu }, { camera: f.cameraIndex, timestep: f.timestep });
    }
    kept.fake?.dispose();
    const gen = kept.adv ? (await kept.adv.data())[0]! : null;
    kept.adv?.dispose();
    if (adversary)
      advLog.push({ step: step + 1, generator: gen, dLoss: dStep?.loss ?? null, dReal: dStep?.realScore ?? null, dFake: dStep?.fakeScore ?? null });
    st.step = step + 1;
    st.rngState = rng.state;
    if (logNow) {
      const [loss, l1] = await Promise.all([value.data(), kept.l1!.data()]);
      kept.l1!.dispose();
      await logMetrics(st.step, {
        loss: loss[0]!,
        l1: l1[0]!,
        adv: gen,
        dLoss: dStep?.loss ?? null,
        dReal: dStep?.realScore ?? null,
        dFake: dStep?.fakeScore ?? null,
        edits: st.edits,
        ...normValues,
      });
      await flushAdvLog();
    }
    value.dispose();
  };

  const dispose = () => {
    groupNorms.dispose();
    for (const t of targets.values()) t.dispose();
    for (const c of conditions.values()) c.gpu.dispose();
    adversary?.dispose();
    unedited?.dispose();
    adam.dispose();
    session.dispose();
  };

  return {
    loop: { startStep: st.step, begin, step, beforeCheckpoint: flushAdvLog, checkpoint, dispose },
    counts: () => ({ edits: st.edits, editSeconds: editSeconds + edits.waitedMs / 1000, cache: { ...editor.stats } }),
  };
}
