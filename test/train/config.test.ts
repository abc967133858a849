import { describe, expect, it } from 'vitest';
import { reconConfig } from '../../lib/train/config.js';
import { learningRates } from '../../lib/train/recon.js';
import { PARAM_GROUPS } from '../../lib/avatar/model.js';

describe('reconstruction config: learning rates', () => {
  it('names each rate after its parameter group, and the means rate decays to lrFinal.means', () => {
    const c = reconConfig({ data: 'd', iterations: 100, lr: { means: 1e-2, opacityLogits: 0.1, logScales: 0.2, quats: 0.3 }, lrFinal: { means: 1e-4 } });
    const start = learningRates(c, 0);
    expect(Object.keys(start).sort()).toEqual([...PARAM_GROUPS].sort());
    expect(start).toMatchObject({ opacityLogits: 0.1, logScales: 0.2, quats: 0.3 });
    expect(start.means).toBeCloseTo(1e-2, 12);
    expect(learningRates(c, 50).means).toBeCloseTo(1e-3, 12); // log-linear: the geometric mean halfway
    expect(learningRates(c, 100).means).toBeCloseTo(1e-4, 12);
  });

  it('rejects any other key, naming it (the old names included)', () => {
    expect(() => reconConfig({ data: 'd', lr: { opacity: 0.1 } } as never, 'run.json')).toThrow(/^run\.json: lr\.opacity: unknown key/);
    expect(() => reconConfig({ data: 'd', lr: { positionInit: 5e-3 } } as never, 'run.json')).toThrow(/^run\.json: lr\.positionInit: unknown key/);
    expect(() => reconConfig({ data: 'd', lrFinal: { quats: 1e-4 } } as never, 'run.json')).toThrow(/^run\.json: lrFinal\.quats: unknown key/);
  });
});
