import { describe, expect, it } from 'vitest';
import { loadHeadModel } from '../../lib/head/model.js';
import { makeHeadTexture } from '../../lib/head/texture.js';
import { EDITS, EDIT_IDS, editSpec } from '../../lib/head/edits.js';
import { Region } from '../../lib/head/regions.js';

describe('procedural head texture', () => {
  it('is a pure function of the seed, and different seeds give different subjects', async () => {
    const m = await loadHeadModel();
    const a = makeHeadTexture(m, { seed: 11, tileSize: 48 });
    const b = makeHeadTexture(m, { seed: 11, tileSize: 48 });
    const c = makeHeadTexture(m, { seed: 12, tileSize: 48 });
    expect(a.width).toBe(4 * 48);
    expect(a.height).toBe(3 * 48);
    expect(Buffer.from(a.albedo).equals(Buffer.from(b.albedo))).toBe(true);
    expect(Buffer.from(a.albedo).equals(Buffer.from(c.albedo))).toBe(false);
    // Regions come from geometry; only the hairline is jittered per subject.
    for (let p = 0; p < a.labels.length; p++) {
      if (a.labels[p] !== c.labels[p]) expect([a.labels[p], c.labels[p]].sort()).toEqual([Region.skin, Region.hair]);
    }
  });

  it('labels every region in texture space', async () => {
    const m = await loadHeadModel();
    const t = makeHeadTexture(m, { seed: 1, tileSize: 64 });
    const counts = new Array(7).fill(0);
    for (const l of t.labels) counts[l]++;
    for (const r of [Region.skin, Region.lips, Region.teeth, Region.tongue, Region.eyes, Region.hair]) expect(counts[r]).toBeGreaterThan(100);
    // The lips are a small part of the face tile; the skin the largest.
    expect(counts[Region.lips]).toBeLessThan(counts[Region.skin] / 20);
  });

  it.each(EDIT_IDS)('edit %s changes texels of its regions only, and enough of them', async (id) => {
    const m = await loadHeadModel();
    const base = makeHeadTexture(m, { seed: 3, tileSize: 64 });
    const edited = makeHeadTexture(m, { seed: 3, tileSize: 64, edit: id });
    const spec = editSpec(id);
    let changed = 0,
      outside = 0;
    for (let p = 0; p < base.labels.length; p++) {
      const d =
        Math.abs(base.albedo[4 * p]! - edited.albedo[4 * p]!) +
        Math.abs(base.albedo[4 * p + 1]! - edited.albedo[4 * p + 1]!) +
        Math.abs(base.albedo[4 * p + 2]! - edited.albedo[4 * p + 2]!);
      if (d > 0) {
        changed++;
        if (!spec.regions.includes(base.labels[p]!)) outside++;
      }
    }
    expect(outside).toBe(0);
    expect(changed).toBeGreaterThan(25);
    expect(Buffer.from(edited.labels).equals(Buffer.from(base.labels))).toBe(true);
  });

  it('has the five required edits with their prompts', () => {
    expect(EDITS.map((e) => [e.id, e.prompt])).toEqual([
      ['gold-teeth', 'turn his teeth gold'],
      ['green-skin', 'give him green skin'],
      ['red-lipstick', 'paint red lipstick'],
      ['blue-eyes', 'make the eyes bright blue'],
      ['cheek-tattoo', 'add a tattoo on the left cheek'],
    ]);
    expect(() => editSpec('purple-hair')).toThrow(/unknown edit "purple-hair"/);
  });
});
