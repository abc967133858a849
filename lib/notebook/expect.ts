/**
 * Expected outputs of notebook cells. A code cell may declare what it must produce:
 *
 *     "metadata": { "gae": { "expect": ["image/png", "application/vnd.plotly.v1+json", "text/html"] } }
 *
 * Entries are MIME types (of display_data / execute_result outputs) or `stdout` / `stderr` (stream outputs).
 * After a headless run, a cell that declared an expectation and did not produce it fails the run, as does
 * any `error` output; a front end that ran a cell silently (a broken import can do that) cannot pass.
 */

export interface NotebookOutput {
  output_type: string;
  name?: string; // streams
  data?: Record<string, unknown>; // display_data, execute_result
  ename?: string; // error
  evalue?: string;
  traceback?: string[];
  text?: string | string[];
}

export interface NotebookCell {
  cell_type: string;
  id?: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface NotebookJson {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export interface ExpectFailure {
  /** 1-based position of the cell in the notebook (all cells, Markdown included). */
  cell: number;
  label: string;
  message: string;
}

const STREAMS = ['stdout', 'stderr'];
const MIME = /^[a-z]+\/[A-Za-z0-9.+-]+$/;

export const joinText = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));

/** Parses an .ipynb file's text, checking the fields this module reads; errors name the file and field. */
export function parseNotebook(json: string, file: string): NotebookJson {
  let nb: unknown;
  try {
    nb = JSON.parse(json);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const o = nb as NotebookJson;
  if (!o || typeof o !== 'object' || !Array.isArray(o.cells)) throw new Error(`${file}: cells: expected an array (is this a Jupyter notebook?)`);
  if (o.nbformat !== 4) throw new Error(`${file}: nbformat: expected 4, got ${String(o.nbformat)}`);
  o.cells.forEach((c, i) => {
    if (!c || typeof c.cell_type !== 'string') throw new Error(`${file}: cells[${i}].cell_type: missing`);
    if (typeof c.source !== 'string' && !Array.isArray(c.source)) throw new Error(`${file}: cells[${i}].source: expected a string or a list of strings`);
    if (c.cell_type === 'code' && c.outputs !== undefined && !Array.isArray(c.outputs)) throw new Error(`${file}: cells[${i}].outputs: expected an array`);
  });
  return o;
}

/** How a cell is named in messages: `cell 4 (id "gpu-check"): const ctx = await getGpu();`. */
export function cellLabel(cell: NotebookCell, index: number): string {
  const first =
    joinText(cell.source)
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '(empty)';
  const short = first.length > 80 ? first.slice(0, 77) + '...' : first;
  return `cell ${index + 1}${cell.id ? ` (id "${cell.id}")` : ''}: ${short}`;
}

/** The cell's declared expectations (metadata.gae.expect); a malformed declaration is an error naming the cell. */
export function cellExpectations(cell: NotebookCell, index: number, file: string): string[] {
  const gae = cell.metadata?.gae as { expect?: unknown } | undefined;
  if (gae === undefined) return [];
  const where = `${file}: cells[${index}].metadata.gae.expect`;
  if (typeof gae !== 'object' || gae === null) throw new Error(`${file}: cells[${index}].metadata.gae: expected an object`);
  if (gae.expect === undefined) return [];
  if (cell.cell_type !== 'code') throw new Error(`${where}: only code cells produce outputs (this is a ${cell.cell_type} cell)`);
  if (!Array.isArray(gae.expect) || !gae.expect.every((e) => typeof e === 'string'))
    throw new Error(`${where}: expected a list of MIME types or "stdout"/"stderr"`);
  for (const e of gae.expect as string[])
    if (!STREAMS.includes(e) && !MIME.test(e)) throw new Error(`${where}: "${e}" is neither a MIME type (e.g. image/png) nor stdout/stderr`);
  return gae.expect as string[];
}

/** What a cell's outputs contain: MIME types of rich outputs and the names of its streams. */
export function producedKinds(cell: NotebookCell): Set<string> {
  const out = new Set<string>();
  for (const o of cell.outputs ?? []) {
    if ((o.output_type === 'display_data' || o.output_type === 'execute_result' || o.output_type === 'update_display_data') && o.data)
      for (const k of Object.keys(o.data)) out.add(k);
    else if (o.output_type === 'stream' && o.name && joinText(o.text) !== '') out.add(o.name);
  }
  return out;
}

/** Failures of an executed notebook: error outputs, and declared outputs a cell did not produce. */
export function checkExpectations(nb: NotebookJson, file: string): ExpectFailure[] {
  const failures: ExpectFailure[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') {
      cellExpectations(cell, i, file); // a declaration on a Markdown cell is a mistake worth reporting
      return;
    }
    const label = cellLabel(cell, i);
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'error') failures.push({ cell: i + 1, label, message: `raised ${o.ename ?? 'an error'}: ${o.evalue ?? ''}`.trim() });
    }
    const want = cellExpectations(cell, i, file);
    if (want.length === 0) return;
    const have = producedKinds(cell);
    const missing = want.filter((w) => !have.has(w));
    if (missing.length > 0) {
      const got = have.size > 0 ? [...have].join(', ') : 'no output';
      failures.push({ cell: i + 1, label, message: `expected ${missing.join(', ')}; got ${got}` });
    }
  });
  return failures;
}

/** Number of cells that declare expectations (a notebook under test should have some). */
export function countExpectations(nb: NotebookJson, file: string): number {
  return nb.cells.reduce((n, c, i) => n + (cellExpectations(c, i, file).length > 0 ? 1 : 0), 0);
}
