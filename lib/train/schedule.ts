/** Learning-rate schedules. */

export interface ExpSchedule {
  init: number;
  final: number;
  maxSteps: number;
  /** 3DGS's warm-up: the rate starts at init·delayMult and eases to the exponential curve over delaySteps. */
  delayMult?: number;
  delaySteps?: number;
}

/** Log-linear decay from `init` to `final` over `maxSteps`, as 3DGS's position learning rate. */
export function expLr(step: number, s: ExpSchedule): number {
  if (step < 0 || (s.init === 0 && s.final === 0)) return 0;
  let delay = 1;
  if (s.delaySteps && s.delaySteps > 0) {
    const dm = s.delayMult ?? 1;
    delay = dm + (1 - dm) * Math.sin(0.5 * Math.PI * Math.min(Math.max(step / s.delaySteps, 0), 1));
  }
  const t = Math.min(Math.max(step / s.maxSteps, 0), 1);
  return delay * Math.exp(Math.log(s.init) * (1 - t) + Math.log(s.final) * t);
}
