/**
 * Seeded performances of the head: identities and sequences of HeadParams.
 *
 * A sequence is a chain of keyframes 0.6 s apart, each an expression target from a shuffled cycle of
 * categories (neutral, talking, smile, open smile, blink, brow raise, frown, pucker, surprise, squint),
 * joined by smooth (cosine) interpolation, with on top: syllable-rate jaw motion while talking, random
 * blinks, gaze shifts, and slow head motion (neck rotation, translation) from smooth noise.
 *
 * Keyframes alternate between a closed-mouth and an open-mouth category (talk, open smile, surprise), so
 * that at least a third of the frames show the mouth interior.
 *
 * Frames sample this timeline with `framesPerKey` frames per keyframe interval (1 for short sequences, so
 * that every frame is a keyframe and a few frames still cover the categories; up to 4 for long ones, which
 * are then temporally smooth). A 'train' sequence starts from an exactly neutral frame (a canonical frame:
 * no expression, no jaw or head motion) and eases into the performance over its first 1.2 s.
 */
import { N_EXPRESSION, N_IDENTITY } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import { Rng } from '../util/random.js';

/** The expression order of ICT-FaceKit's model.json (ARKit names). */
export const EXPRESSION_NAMES = [
  'browDown_L', 'browDown_R', 'browInnerUp_L', 'browInnerUp_R', 'browOuterUp_L', 'browOuterUp_R', 'cheekPuff_L', 'cheekPuff_R',
  'cheekSquint_L', 'cheekSquint_R', 'eyeBlink_L', 'eyeBlink_R', 'eyeLookDown_L', 'eyeLookDown_R', 'eyeLookIn_L', 'eyeLookIn_R',
  'eyeLookOut_L', 'eyeLookOut_R', 'eyeLookUp_L', 'eyeLookUp_R', 'eyeSquint_L', 'eyeSquint_R', 'eyeWide_L', 'eyeWide_R',
  'jawForward', 'jawLeft', 'jawOpen', 'jawRight', 'mouthClose', 'mouthDimple_L', 'mouthDimple_R', 'mouthFrown_L', 'mouthFrown_R',
  'mouthFunnel', 'mouthLeft', 'mouthLowerDown_L', 'mouthLowerDown_R', 'mouthPress_L', 'mouthPress_R', 'mouthPucker', 'mouthRight',
  'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower', 'mouthShrugUpper', 'mouthSmile_L', 'mouthSmile_R', 'mouthStretch_L',
  'mouthStretch_R', 'mouthUpperUp_L', 'mouthUpperUp_R', 'noseSneer_L', 'noseSneer_R',
] as const;
type ExprName = (typeof EXPRESSION_NAMES)[number];
const E = Object.fromEntries(EXPRESSION_NAMES.map((n, i) => [n, i])) as Record<ExprName, number>;

export type SequenceKind = 'train' | 'heldout' | 'cross';

export const CATEGORIES = ['neutral', 'talk', 'smile', 'open-smile', 'blink', 'brow-raise', 'frown', 'pucker', 'surprise', 'squint'] as const;
export type Category = (typeof CATEGORIES)[number];
const OPEN_MOUTH: readonly Category[] = ['talk', 'open-smile', 'surprise'];

export interface SequenceOptions {
  frames: number;
  seed: number;
  identity: ArrayLike<number>; // [20]
  kind: SequenceKind;
  /** Seconds between keyframes (default 0.6). */
  keySpacing?: number;
}

export interface Sequence {
  params: HeadParams[];
  times: number[]; // seconds
  /** The keyframe category nearest to each frame (for figures and per-category evaluation). */
  categories: Category[];
}

/** Identity coefficients of a subject: standard normal, clipped to ±2 (the basis is PCA-like). */
export function sampleIdentity(seed: number): Float32Array {
  const rng = new Rng(seed ^ 0x1d1d);
  const id = new Float32Array(N_IDENTITY);
  for (let k = 0; k < N_IDENTITY; k++) id[k] = Math.max(-2, Math.min(2, rng.normal()));
  return id;
}

type Target = Partial<Record<ExprName, number>>;

function categoryTarget(c: Category, rng: Rng, style: number): Target {
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const sym = (l: ExprName, r: ExprName, v: number, t: Target) => {
    const a = u(-0.1, 0.1);
    t[l] = Math.max(0, v * (1 + a));
    t[r] = Math.max(0, v * (1 - a));
  };
  const t: Target = {};
  switch (c) {
    case 'neutral':
      break;
    case 'talk':
      t.jawOpen = u(0.25, 0.6) * style;
      t.mouthFunnel = u(0, 0.3);
      t.mouthLowerDown_L = t.mouthLowerDown_R = u(0, 0.4);
      t.mouthUpperUp_L = t.mouthUpperUp_R = u(0, 0.3);
      break;
    case 'smile':
      sym('mouthSmile_L', 'mouthSmile_R', u(0.5, 0.9) * style, t);
      sym('cheekSquint_L', 'cheekSquint_R', u(0.2, 0.5), t);
      break;
    case 'open-smile':
      t.jawOpen = u(0.35, 0.6) * style;
      sym('mouthSmile_L', 'mouthSmile_R', u(0.6, 1.0), t);
      sym('mouthUpperUp_L', 'mouthUpperUp_R', u(0.3, 0.6), t);
      sym('cheekSquint_L', 'cheekSquint_R', u(0.3, 0.6), t);
      break;
    case 'blink':
      sym('eyeBlink_L', 'eyeBlink_R', 1, t);
      break;
    case 'brow-raise':
      sym('browInnerUp_L', 'browInnerUp_R', u(0.5, 1), t);
      sym('browOuterUp_L', 'browOuterUp_R', u(0.4, 1), t);
      sym('eyeWide_L', 'eyeWide_R', u(0, 0.5), t);
      break;
    case 'frown':
      sym('browDown_L', 'browDown_R', u(0.5, 1), t);
      sym('mouthFrown_L', 'mouthFrown_R', u(0.4, 0.9), t);
      sym('noseSneer_L', 'noseSneer_R', u(0, 0.4), t);
      break;
    case 'pucker':
      t.mouthPucker = u(0.5, 1);
      t.mouthFunnel = u(0, 0.4);
      break;
    case 'surprise':
      t.jawOpen = u(0.5, 0.8) * style;
      sym('browInnerUp_L', 'browInnerUp_R', u(0.6, 1), t);
      sym('browOuterUp_L', 'browOuterUp_R', u(0.6, 1), t);
      sym('eyeWide_L', 'eyeWide_R', u(0.5, 1), t);
      break;
    case 'squint':
      sym('eyeSquint_L', 'eyeSquint_R', u(0.5, 1), t);
      sym('cheekSquint_L', 'cheekSquint_R', u(0.3, 0.7), t);
      t.mouthLeft = u(0, 0.4);
      break;
  }
  return t;
}

/** Smooth 1D noise in [−1, 1]: cosine-interpolated random values at integer knots. */
class Smooth1D {
  private readonly knots: number[] = [];
  constructor(
    private readonly rng: Rng,
    private readonly period: number,
  ) {}
  at(t: number): number {
    const x = t / this.period;
    const i = Math.floor(x);
    while (this.knots.length < i + 2) this.knots.push(2 * this.rng.next() - 1);
    const f = (1 - Math.cos(Math.PI * (x - i))) / 2;
    return this.knots[i]! * (1 - f) + this.knots[i + 1]! * f;
  }
}

const smooth01 = (x: number) => {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
};

export function framesPerKey(frames: number): number {
  return Math.max(1, Math.min(4, Math.floor(frames / 10)));
}

export function makeSequence(opts: SequenceOptions): Sequence {
  const { frames, seed, kind } = opts;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`makeSequence: frames must be a positive integer, got ${frames}`);
  if (opts.identity.length !== N_IDENTITY) throw new Error(`makeSequence: identity must have ${N_IDENTITY} values`);
  const rng = new Rng(seed ^ (kind === 'train' ? 0x7a11 : kind === 'heldout' ? 0x4e1d : 0xc055));
  // The cross-identity driver is another person: livelier expressions and larger head motion.
  const style = kind === 'cross' ? 1.25 : 1;
  const motion = kind === 'cross' ? 1.6 : 1;
  const spacing = opts.keySpacing ?? 0.6;
  const fpk = framesPerKey(frames);
  const dt = spacing / fpk;
  const nKeys = Math.ceil(frames / fpk) + 2;

  // Keyframe categories: open-mouth and closed-mouth ones alternate (open at odd keyframes), each drawn from
  // its own shuffled bag that refills when empty, so every category recurs and about half of the keyframes,
  // hence at least a third of the frames, show the mouth interior (issue 13: the evaluation needs mouth-open
  // frames in numbers). A 'train' sequence starts neutral.
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  const bags: Record<'open' | 'closed', Category[]> = { open: [], closed: [] };
  const draw = (which: 'open' | 'closed'): Category => {
    if (bags[which].length === 0) bags[which] = shuffle(CATEGORIES.filter((c) => OPEN_MOUTH.includes(c) === (which === 'open')));
    return bags[which].shift()!;
  };
  const cats: Category[] = [];
  if (kind === 'train') bags.closed = ['neutral', ...shuffle(CATEGORIES.filter((c) => !OPEN_MOUTH.includes(c) && c !== 'neutral'))];
  while (cats.length < nKeys) cats.push(draw(cats.length % 2 === 1 ? 'open' : 'closed'));
  const targets = cats.slice(0, nKeys).map((c) => categoryTarget(c, rng, style));

  const noise = (period: number) => new Smooth1D(new Rng(rng.u32()), period);
  const gazeH = noise(1.7), gazeV = noise(2.3);
  const pitch = noise(2.9), yaw = noise(3.7), roll = noise(4.3), tx = noise(3.1), ty = noise(3.3), tz = noise(4.1);
  const jawX = noise(0.9), jawY = noise(1.3), syllPhase = noise(0.7);
  const blinkTimes: number[] = [];
  for (let t = rng.uniform(0.5, 3); t < frames * dt + 1; t += rng.uniform(1.5, 4.5)) blinkTimes.push(t);

  const params: HeadParams[] = [];
  const times: number[] = [];
  const categories: Category[] = [];
  for (let f = 0; f < frames; f++) {
    const t = f * dt;
    const k = Math.floor(f / fpk);
    const a = (f % fpk) / fpk;
    const w = (1 - Math.cos(Math.PI * a)) / 2;
    const e = new Float32Array(N_EXPRESSION);
    const A = targets[k]!, B = targets[k + 1]!;
    for (const n of new Set([...Object.keys(A), ...Object.keys(B)]) as Set<ExprName>) e[E[n]] = (A[n] ?? 0) * (1 - w) + (B[n] ?? 0) * w;
    const cat = cats[a < 0.5 ? k : k + 1]!;
    // Talking: syllables modulate the jaw around the keyframe's opening (only between keyframes).
    const talking = (cats[k] === 'talk' ? 1 - w : 0) + (cats[k + 1] === 'talk' ? w : 0);
    if (talking > 0 && a > 0) e[E.jawOpen] = Math.max(0, e[E.jawOpen]! * (0.55 + 0.45 * Math.sin(2 * Math.PI * (4 * t + syllPhase.at(t)))));
    // Random blinks (≈ 0.25 s), on top of the blink keyframes.
    for (const b of blinkTimes) {
      const d = Math.abs(t - b);
      if (d < 0.13) {
        const v = Math.cos((Math.PI / 2) * (d / 0.13));
        e[E.eyeBlink_L] = Math.max(e[E.eyeBlink_L]!, v);
        e[E.eyeBlink_R] = Math.max(e[E.eyeBlink_R]!, v);
      }
    }
    // A training sequence eases in from the neutral first frame (gaze, head and jaw motion ramp up).
    const ramp = kind === 'train' ? smooth01(t / 1.2) : 1;
    // Gaze: horizontal g > 0 looks toward the subject's left.
    const g = 0.35 * ramp * gazeH.at(t), v = 0.25 * ramp * gazeV.at(t);
    e[E.eyeLookOut_L] = Math.max(0, g);
    e[E.eyeLookIn_R] = Math.max(0, g);
    e[E.eyeLookIn_L] = Math.max(0, -g);
    e[E.eyeLookOut_R] = Math.max(0, -g);
    e[E.eyeLookUp_L] = e[E.eyeLookUp_R] = Math.max(0, v);
    e[E.eyeLookDown_L] = e[E.eyeLookDown_R] = Math.max(0, -v);
    for (let j = 0; j < N_EXPRESSION; j++) e[j] = Math.min(1, Math.max(0, e[j]!));
    const r = ramp * motion;
    params.push({
      identity: Float32Array.from(opts.identity),
      expression: e,
      // (+ 0 turns −0 into 0 at the neutral frame.)
      jaw: [0.04 * ramp * (jawX.at(t) + 1) * (0.3 + talking) + 0, 0.02 * ramp * jawY.at(t) + 0, 0],
      neck: [0.08 * r * pitch.at(t) + 0, 0.16 * r * yaw.at(t) + 0, 0.05 * r * roll.at(t) + 0],
      translation: [0.006 * r * tx.at(t) + 0, 0.004 * r * ty.at(t) + 0, 0.006 * r * tz.at(t) + 0],
    });
    times.push(t);
    categories.push(cat);
  }
  return { params, times, categories };
}
