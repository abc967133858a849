import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reconstructedBlend } from '../../lib/edit/run.js';

describe('the unedited avatar is scored under the blending it was reconstructed with', () => {
  it('WABE from a reconstruction run with wabe.enabled, alpha otherwise', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-blend-'));
    const wabe = path.join(dir, 'wabe');
    const alpha = path.join(dir, 'alpha');
    for (const [d, enabled] of [
      [wabe, true],
      [alpha, false],
    ] as const) {
      await mkdir(d);
      await writeFile(path.join(d, 'config.json'), JSON.stringify({ name: 'recon', wabe: { enabled, beta: 4, stopGradient: true, renormalize: false } }));
    }
    expect(await reconstructedBlend(wabe)).toEqual({ originalBlend: { blend: 'wabe', wabe: { beta: 4, stopGradient: true, renormalize: false } } });
    expect(await reconstructedBlend(alpha)).toEqual({});
    expect(await reconstructedBlend(path.join(dir, 'avatar.ply'))).toEqual({});
    const bad = path.join(dir, 'bad');
    await mkdir(bad);
    await writeFile(path.join(bad, 'config.json'), '{ not json');
    await expect(reconstructedBlend(bad)).rejects.toThrow(`${path.join(bad, 'config.json')}: cannot read the reconstruction's config`);
  });
});
