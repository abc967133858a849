/** Several runs' training curves on one set of axes. */
import { describe, expect, it } from 'vitest';
import { runCurves } from '../../lib/report/figures.js';

describe('runCurves', () => {
  it('names traces "<run>: <key>", colours by run, dashes by key, and skips runs without the keys', () => {
    const a = [
      { step: 10, loss: 0.5, adv: 0.1 },
      { step: 20, loss: 0.4, adv: 0.2 },
    ];
    const b = [
      { step: 10, loss: 0.6 },
      { step: 20, loss: 0.3 },
    ];
    const c = [{ step: 10, other: 1 }];
    const f = runCurves(
      [
        { name: 'ours', records: a },
        { name: 'ours-no-wabe', records: b },
        { name: 'none', records: c },
      ],
      { keys: ['loss', 'adv'], title: 'edit loss' },
    );
    expect(f.data.map((t) => t.name)).toEqual(['ours: loss', 'ours: adv', 'ours-no-wabe: loss']);
    expect(f.data[2]!.y).toEqual([0.6, 0.3]);
    const line = (i: number) => f.data[i]!.line as { color: string; dash: string };
    expect(line(0).color).toBe(line(1).color);
    expect(line(0).color).not.toBe(line(2).color);
    expect(line(0).dash).not.toBe(line(1).dash);
    expect((f.layout.title as { text: string }).text).toBe('edit loss');
    expect(() => runCurves([{ name: 'none', records: c }], { keys: ['loss'] })).toThrow(/none of none logged any of loss/);
  });
});
