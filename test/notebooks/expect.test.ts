import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cellExpectations, cellLabel, checkExpectations, countExpectations, parseNotebook, producedKinds, type NotebookJson } from '../../lib/notebook/expect.js';
import { installKernelSpec, kernelSpec, KERNEL_NAME, prefixDataDir, userDataDir } from '../../lib/notebook/kernelspec.js';
import { notebookDataset, pick, preset, PRESET_ENV } from '../../lib/notebook/preset.js';
import { describeCellError, resolveNotebooks } from '../../lib/notebook/run.js';

/** An executed notebook as nbconvert writes it: a GPU table, a grid image, a figure with its PNG. */
function executed(): NotebookJson {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', id: 'intro', source: '# Title', metadata: {} },
      {
        cell_type: 'code',
        id: 'gpu',
        source: ['const ctx = await getGpu();\n', 'showTable(adapterRows(ctx.report));'],
        metadata: { gae: { expect: ['text/html'] } },
        outputs: [{ output_type: 'display_data', data: { 'text/html': '<table></table>', 'text/plain': 'x' } }],
        execution_count: 1,
      },
      {
        cell_type: 'code',
        id: 'grid',
        source: 'showImages(await overviewGrid(ctx, ds));',
        metadata: { gae: { expect: ['image/png', 'stdout'] } },
        outputs: [
          { output_type: 'stream', name: 'stdout', text: ['4 cameras\n'] },
          { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo=', 'text/plain': '<image>' } },
        ],
        execution_count: 2,
      },
      {
        cell_type: 'code',
        id: 'rig',
        source: '\n// the rig\nawait showFigure(cameraRigFigure(datasetCameras(ds)));',
        metadata: { gae: { expect: ['application/vnd.plotly.v1+json', 'image/png'] } },
        outputs: [{ output_type: 'display_data', data: { 'application/vnd.plotly.v1+json': { data: [], layout: {} }, 'image/png': 'iVBORw0KGgo=' } }],
        execution_count: 3,
      },
      { cell_type: 'code', id: 'free', source: 'const x = 1;', metadata: {}, outputs: [], execution_count: 4 },
    ],
  };
}

describe('expected outputs', () => {
  it('a notebook that produced every declared output passes', () => {
    const nb = executed();
    expect(checkExpectations(nb, 'nb.ipynb')).toEqual([]);
    expect(countExpectations(nb, 'nb.ipynb')).toBe(3);
  });

  it('a cell missing a declared output fails, and the failure names the cell and what was missing', () => {
    const nb = executed();
    nb.cells[3]!.outputs = [{ output_type: 'display_data', data: { 'application/vnd.plotly.v1+json': { data: [], layout: {} }, 'text/plain': 'fig' } }];
    const f = checkExpectations(nb, 'nb.ipynb');
    expect(f).toHaveLength(1);
    expect(f[0]!.cell).toBe(4);
    expect(f[0]!.label).toBe('cell 4 (id "rig"): // the rig');
    expect(f[0]!.message).toBe('expected image/png; got application/vnd.plotly.v1+json, text/plain');
  });

  it('a cell with no outputs at all (e.g. silently broken) fails for each of its declarations', () => {
    const nb = executed();
    nb.cells[2]!.outputs = [];
    const f = checkExpectations(nb, 'nb.ipynb');
    expect(f.map((x) => x.message)).toEqual(['expected image/png, stdout; got no output']);
    expect(f[0]!.label).toContain('id "grid"');
  });

  it('an empty stream does not count as output; an error output always fails', () => {
    const nb = executed();
    nb.cells[2]!.outputs![0] = { output_type: 'stream', name: 'stdout', text: '' };
    nb.cells[4]!.outputs = [{ output_type: 'error', ename: 'TypeError', evalue: 'x is undefined', traceback: [] }];
    const f = checkExpectations(nb, 'nb.ipynb');
    expect(f.map((x) => [x.cell, x.message])).toEqual([
      [3, 'expected stdout; got image/png, text/plain'],
      [5, 'raised TypeError: x is undefined'],
    ]);
  });

  it('malformed declarations are errors naming the file, cell and field', () => {
    const nb = executed();
    nb.cells[1]!.metadata = { gae: { expect: 'text/html' } };
    expect(() => checkExpectations(nb, 'nb.ipynb')).toThrow('nb.ipynb: cells[1].metadata.gae.expect: expected a list of MIME types or "stdout"/"stderr"');
    nb.cells[1]!.metadata = { gae: { expect: ['png'] } };
    expect(() => checkExpectations(nb, 'nb.ipynb')).toThrow('"png" is neither a MIME type');
    nb.cells[1]!.metadata = {};
    nb.cells[0]!.metadata = { gae: { expect: ['text/html'] } };
    expect(() => checkExpectations(nb, 'nb.ipynb')).toThrow('nb.ipynb: cells[0].metadata.gae.expect: only code cells produce outputs (this is a markdown cell)');
  });

  it('producedKinds and cellExpectations read nbformat fields', () => {
    const nb = executed();
    expect([...producedKinds(nb.cells[2]!)].sort()).toEqual(['image/png', 'stdout', 'text/plain']);
    expect(cellExpectations(nb.cells[4]!, 4, 'f')).toEqual([]);
    expect(cellLabel({ cell_type: 'code', source: 'x'.repeat(100) }, 0)).toBe(`cell 1: ${'x'.repeat(77)}...`);
  });

  it('parseNotebook rejects what is not a notebook, naming the file', () => {
    expect(() => parseNotebook('{', 'a.ipynb')).toThrow(/^a\.ipynb: not JSON/);
    expect(() => parseNotebook('{"cells": 3}', 'a.ipynb')).toThrow('a.ipynb: cells: expected an array');
    expect(() => parseNotebook('{"cells": [], "nbformat": 3}', 'a.ipynb')).toThrow('a.ipynb: nbformat: expected 4, got 3');
    expect(() => parseNotebook('{"cells": [{"cell_type": "code", "source": 1}], "nbformat": 4}', 'a.ipynb')).toThrow('a.ipynb: cells[0].source');
  });
});

describe('nbconvert failures', () => {
  // What nbclient prints when a cell's execute_reply has status "error" (scripts/tslab-kernel.cjs fills in the error).
  const log = [
    '[NbConvertApp] Converting notebook x.ipynb to notebook',
    'Traceback (most recent call last):',
    '  File "/usr/bin/jupyter-nbconvert", line 33, in <module>',
    'nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:',
    '------------------',
    'const ctx = await getGpu();',
    'showTable(adapterRows(ctx.report));',
    '------------------',
    '',
    'Error: No WebGPU adapter found',
    'Error: No WebGPU adapter found',
    '',
  ].join('\n');

  it('names the failing cell by its position and shows its source and error', () => {
    const msg = describeCellError(log, executed())!;
    expect(msg.split('\n')[0]).toBe('cell 2 (id "gpu"): const ctx = await getGpu(); failed');
    expect(msg).toContain('  source:\n    const ctx = await getGpu();\n    showTable(adapterRows(ctx.report));\n  error:\n    Error: No WebGPU adapter found');
  });

  it('without the notebook it still shows source and error; without the message it says nothing', () => {
    expect(describeCellError(log, null)!.split('\n')[0]).toBe('a cell failed');
    expect(describeCellError('Traceback: kernel died', null)).toBeNull();
  });
});

describe('notebook names', () => {
  it('resolves all, exact names, names without .ipynb, unique prefixes and paths; rejects the rest', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-nb-'));
    for (const f of ['01-quickstart.ipynb', '02-reconstruct.ipynb', '03-edit.ipynb', 'notes.txt']) await writeFile(path.join(dir, f), '{}');
    const p = (f: string) => path.join(dir, f);
    expect(await resolveNotebooks([], dir)).toEqual([p('01-quickstart.ipynb'), p('02-reconstruct.ipynb'), p('03-edit.ipynb')]);
    expect(await resolveNotebooks(['02', '01-quickstart', '03-edit.ipynb', '02-r'], dir)).toEqual([p('02-reconstruct.ipynb'), p('01-quickstart.ipynb'), p('03-edit.ipynb')]);
    expect(await resolveNotebooks([p('03-edit.ipynb')], '/nonexistent')).toEqual([p('03-edit.ipynb')]);
    await expect(resolveNotebooks(['0'], dir)).rejects.toThrow('notebook "0": matches 01-quickstart.ipynb, 02-reconstruct.ipynb, 03-edit.ipynb');
    await expect(resolveNotebooks(['04'], dir)).rejects.toThrow(`notebook "04": no such notebook in ${dir}`);
    await expect(resolveNotebooks([], path.join(dir, 'none'))).rejects.toThrow('no notebooks');
  });
});

describe('kernelspec', () => {
  it('points at this checkout\'s wrapper, with the node that registered it', () => {
    const k = kernelSpec('/repo', '/opt/node/bin/node');
    expect(k.argv).toEqual(['/repo/scripts/notebook-kernel.sh', '{connection_file}']);
    expect(k.display_name).toBe('TypeScript (GaussianAvatar-Editor)');
    expect(k.language).toBe('typescript');
    expect(k.env).toEqual({ GAE_NODE: '/opt/node/bin/node' });
    expect(kernelSpec('/repo', '/usr/bin/node', 'tiny').env).toEqual({ GAE_NODE: '/usr/bin/node', GAE_NOTEBOOK_PRESET: 'tiny' });
  });

  it('installs idempotently into <data dir>/kernels/gae-tslab and replaces a registration pointing elsewhere', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-kernels-'));
    const a = await installKernelSpec(dir, { root: '/repo-a', node: '/usr/bin/node' });
    expect(a).toEqual({ dir: path.join(dir, 'kernels', KERNEL_NAME), file: path.join(dir, 'kernels', KERNEL_NAME, 'kernel.json'), changed: true });
    expect(JSON.parse(await readFile(a.file, 'utf8'))).toEqual(kernelSpec('/repo-a', '/usr/bin/node'));
    expect((await installKernelSpec(dir, { root: '/repo-a', node: '/usr/bin/node' })).changed).toBe(false);
    expect((await installKernelSpec(dir, { root: '/repo-b', node: '/usr/bin/node' })).changed).toBe(true);
    expect(JSON.parse(await readFile(a.file, 'utf8')).argv[0]).toBe('/repo-b/scripts/notebook-kernel.sh');
  });

  it('finds the data dirs Jupyter uses', () => {
    expect(userDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/jupyter');
    expect(userDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/jupyter');
    expect(userDataDir({ JUPYTER_DATA_DIR: '/jd' }, 'linux', '/home/u')).toBe('/jd');
    expect(userDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Jupyter');
    expect(prefixDataDir('/opt/venv')).toBe('/opt/venv/share/jupyter');
  });
});

describe('presets', () => {
  it('reads GAE_NOTEBOOK_PRESET (default full) and rejects other values by name', () => {
    expect(preset({})).toBe('full');
    expect(preset({ [PRESET_ENV]: '' })).toBe('full');
    expect(preset({ [PRESET_ENV]: 'tiny' })).toBe('tiny');
    expect(() => preset({ [PRESET_ENV]: 'small' })).toThrow('GAE_NOTEBOOK_PRESET: expected tiny or full, got "small"');
    expect(pick({ tiny: 5, full: 500 }, 'tiny')).toBe(5);
    expect(pick({ tiny: 5, full: 500 }, 'full')).toBe(500);
  });

  it('tiny and full share the subject, in different folders, full as `data:synth --preset full --frames 60` writes it', () => {
    const t = notebookDataset('tiny'), f = notebookDataset('full');
    expect([t.dir, t.config.subject, t.config.width, t.config.cameras]).toEqual(['data/synthetic/alice-tiny', 'alice', 128, 6]);
    expect([f.dir, f.config.subject, f.config.width, f.config.height, f.config.cameras, f.config.frames, f.config.testFrames]).toEqual(['data/synthetic/alice', 'alice', 802, 550, 16, 60, 30]);
  });
});
