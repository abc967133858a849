/**
 * The notebooks, executed as CI executes them: `npm run notebooks:run` (jupyter-nbconvert, the gae-tslab
 * kernel, GAE_NOTEBOOK_PRESET=tiny). Skipped, saying why, only where jupyter-nbconvert is not installed
 * (CI installs it with scripts/setup.sh --full).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkExpectations, countExpectations, parseNotebook } from '../../lib/notebook/expect.js';
import { KERNEL_NAME, repoRoot } from '../../lib/notebook/kernelspec.js';
import { findNbconvert, NO_NBCONVERT } from '../../lib/notebook/run.js';

const root = repoRoot();
const notebooksDir = path.join(root, 'notebooks');
const fixtures = path.join(root, 'test', 'notebooks', 'fixtures');
const nbconvert = findNbconvert();
if (!nbconvert) console.warn(`test/notebooks/notebooks.test.ts: notebook runs skipped: ${NO_NBCONVERT}`);

function runCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'notebooks:run', '--', ...args], { cwd: root, env: { ...process.env, GAE_NOTEBOOK_PRESET: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const notebookFiles = async () => (await readdir(notebooksDir)).filter((f) => f.endsWith('.ipynb')).sort();

describe('committed notebooks', () => {
  it('use the gae-tslab kernel, declare outputs, carry the outputs they declare, and stay under 1 MiB', async () => {
    const files = await notebookFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const file = path.join(notebooksDir, f);
      const nb = parseNotebook(await readFile(file, 'utf8'), file);
      expect((nb.metadata.kernelspec as { name?: string } | undefined)?.name, f).toBe(KERNEL_NAME);
      expect(countExpectations(nb, file), f).toBeGreaterThan(0);
      expect(checkExpectations(nb, file), `${f}: committed outputs (refresh with npm run notebooks:run -- --inplace)`).toEqual([]);
      expect((await stat(file)).size, f).toBeLessThan(1 << 20);
    }
  });
});

describe.skipIf(!nbconvert)(`npm run notebooks:run${nbconvert ? '' : ` (skipped: ${NO_NBCONVERT})`}`, () => {
  it('runs every notebook in notebooks/ at the tiny preset; each executed copy has all its declared outputs', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'gae-notebooks-'));
    const r = await runCli(['--out', out]);
    const files = await notebookFiles();
    expect(r.out).toContain(`${files.length}/${files.length} notebooks passed`);
    expect(r.code, r.out).toBe(0);
    for (const f of files) {
      expect(r.out).toContain(`running notebooks/${f} (GAE_NOTEBOOK_PRESET=tiny)`);
      const file = path.join(out, f);
      const nb = parseNotebook(await readFile(file, 'utf8'), file);
      expect(checkExpectations(nb, file)).toEqual([]);
      expect(countExpectations(nb, file)).toBeGreaterThan(0);
    }
  }, 1_800_000); // six notebooks, about a minute each on two free cores; several times that beside other test files

  it('fails on cell errors (runtime and type errors, shown with the cell) and on missing outputs; --inplace replaces only notebooks that passed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-nb-fixtures-'));
    const names = ['passes', 'cell-error', 'type-error', 'missing-output'];
    for (const n of names) await copyFile(path.join(fixtures, `${n}.ipynb`), path.join(dir, `${n}.ipynb`));
    const r = await runCli([...names.map((n) => path.join(dir, `${n}.ipynb`)), '--inplace']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('1/4 notebooks passed; failed: cell-error.ipynb, type-error.ipynb, missing-output.ipynb');
    // The runtime error: the failing cell by position and id, its source, and the error the kernel printed.
    expect(r.out).toContain('cell 2 (id "throws"): const answer = 41; failed\n  source:\n    const answer = 41;\n    throw new Error(`boom-${answer + 1}`);\n  error:');
    expect(r.out).toContain('Error: boom-42');
    expect(r.out).not.toContain('never runs');
    // The type error, as tslab's compiler reports it.
    expect(r.out).toContain('cell 1 (id "mistyped"): const n: number = \'not a number\'; failed');
    expect(r.out).toContain("Type 'string' is not assignable to type 'number'.");
    // The declared PNG that never came.
    expect(r.out).toContain('cell 1 (id "claims-a-png"): // declares an image but only prints: expected image/png; got stdout');

    const passed = parseNotebook(await readFile(path.join(dir, 'passes.ipynb'), 'utf8'), 'passes.ipynb');
    expect(passed.cells[1]!.outputs).toEqual([
      { output_type: 'display_data', data: { 'text/markdown': ['preset **tiny**'], 'text/plain': ['preset **tiny**'] }, metadata: {} },
      { output_type: 'stream', name: 'stdout', text: ['hello from the gae-tslab kernel\n'] },
    ]);
    for (const n of ['cell-error', 'type-error', 'missing-output']) {
      expect(await readFile(path.join(dir, `${n}.ipynb`), 'utf8'), n).toBe(await readFile(path.join(fixtures, `${n}.ipynb`), 'utf8'));
    }
  });
});
