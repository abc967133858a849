/** Issue 17 §1: one strict config parser; unknown keys name a close match; nested objects merge key by key. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closestKeys, mergeConfig, parseConfig, unknownKeys } from '../../lib/util/config.js';
import { reconConfig, reconConfigSchema, RECON_PRESETS, loadReconConfig } from '../../lib/train/config.js';
import { editConfig, loadEditConfig } from '../../lib/edit/config.js';
import { methodConfig } from '../../lib/edit/run.js';
import { gaeSync } from '../helpers/gae-process.js';

const gae = (...args: string[]) => gaeSync(args, { timeout: 120_000 });

describe('strict configs', () => {
  it("the issue's file: a misspelt key is an error naming it and its close match, at any depth", () => {
    const file = { iterations: 5, itterations: 9, lr: { shDC: 1 } };
    expect(() => reconConfig(mergeConfig(RECON_PRESETS.tiny, file, { data: 'd' }) as never, 'exp.json')).toThrow(
      "exp.json: itterations: unknown key (did you mean 'iterations'?); lr.shDC: unknown key (did you mean 'shDc'?)",
    );
    expect(() => reconConfig(mergeConfig({ data: 'd' }, { lr: { shDC: 1 } }) as never, 'exp.json')).toThrow(
      "exp.json: lr.shDC: unknown key (did you mean 'shDc'?)",
    );
    // Far from every known key: the known keys are listed instead.
    expect(() => parseConfig(reconConfigSchema, { data: 'd', zzzzzzzzz: 1 }, 'f')).toThrow(/f: zzzzzzzzz: unknown key \(known: name, seed, data, iterations/);
  });

  it("nested objects merge key by key: lr.shDc from a file keeps the preset's other rates", () => {
    const c = reconConfig(mergeConfig(RECON_PRESETS.tiny, { iterations: 5, lr: { shDc: 1 } }, { data: 'd' }) as never);
    expect(c.iterations).toBe(5);
    expect(c.lr.shDc).toBe(1);
    expect(c.lr.shRest).toBe(RECON_PRESETS.tiny.lr.shRest); // the preset's, not the schema default 1.25e-4
    expect(c.checkpoint.every).toBe(RECON_PRESETS.tiny.checkpoint.every);
    expect(mergeConfig({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] } }, { a: { d: undefined } })).toEqual({ a: { b: 1, c: [3] } });
  });

  it('a misspelt editor key is an error, not a silent offline run', () => {
    const base = { data: 'd', avatar: 'a', edit: { id: 'gold-teeth' } };
    expect(() => editConfig({ ...base, editr: { kind: 'hf' } }, 'e.json')).toThrow("e.json: editr: unknown key (did you mean 'edit' or 'editor'?)");
    expect(() => editConfig({ ...base, editor: { knd: 'hf' } }, 'e.json')).toThrow("e.json: editor.knd: unknown key (did you mean 'kind'?)");
    expect(() => methodConfig('ours', 'tiny', { ...base, wabe: { bta: 2 } }, 'grid.json')).toThrow("grid.json: wabe.bta: unknown key (did you mean 'beta'?)");
    expect(editConfig({ ...base, editor: { kind: 'hf' } }).editor.kind).toBe('hf');
  });

  it('walks arrays, records and loose objects correctly', () => {
    expect(unknownKeys(reconConfigSchema, { $comment: 'a note', eval: { splits: ['val'] }, background: null })).toEqual([]);
    expect(closestKeys('iteratoins', ['iterations', 'seed'])).toEqual(['iterations']);
    expect(closestKeys('x', ['iterations'])).toEqual([]);
  });

  it('config files: errors name the file; gae train --config exits 2 with the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gae-cfg-'));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ iterations: 5, itterations: 9, lr: { shDC: 1 } }));
    await expect(loadReconConfig(bad, { data: 'd' })).rejects.toThrow(`${bad}: itterations: unknown key (did you mean 'iterations'?)`);
    const torn = path.join(dir, 'torn.json');
    writeFileSync(torn, '{"data": "d", "edit": ');
    await expect(loadEditConfig(torn)).rejects.toThrow(`${torn}: not valid JSON`);
    const r = gae('train', '--data', path.join(dir, 'nodata'), '--preset', 'tiny', '--config', bad, '--run', path.join(dir, 'run'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`${bad}: itterations: unknown key (did you mean 'iterations'?); lr.shDC: unknown key (did you mean 'shDc'?)`);
    expect(existsSync(path.join(dir, 'run'))).toBe(false);
  });
});
