/**
 * Where notebook outputs go. A display is one Jupyter MIME bundle (several representations of the same
 * thing; the front end shows the richest it can render), sent to a sink: in a tslab kernel, the cell's
 * output; in tests, an array.
 *
 * tslab's public `display` API sends one MIME type per call, which would put an interactive figure and its
 * static PNG in the notebook as two outputs. So the tslab sink writes whole bundles through tslab's own
 * writer (`tslab/dist/jupyter.js`, pinned with tslab 1.0.22), which is the same function `display.raw` calls.
 * tslab is only loaded on the first display inside a kernel; nothing here touches it at module load.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { libDir } from '../util/lib-dir.js';

/** MIME type → data: a string (base64 for binary types) or, for `+json` types, a JSON value. */
export type MimeBundle = Record<string, unknown>;

export interface DisplaySink {
  display(data: MimeBundle, metadata?: Record<string, unknown>): void;
}

let sink: DisplaySink | null = null;

/** Replaces the sink (tests pass an array-backed one); null restores the tslab sink. */
export function setDisplaySink(s: DisplaySink | null): void {
  sink = s;
}

export const NOT_IN_KERNEL =
  'lib/notebook: no display: this is not running in a tslab kernel (open the notebook with the gae-tslab kernel, ' +
  'see README "Notebooks"; outside a notebook call setDisplaySink)';

type WriteDisplayData = (msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

function tslabSink(): DisplaySink {
  // tslab's executor sets __tslab__ on globalThis before it runs the first cell.
  if (!('__tslab__' in globalThis)) throw new Error(NOT_IN_KERNEL);
  // lib/ is compiled to CommonJS in the kernel; resolving from lib/ finds the kernel's own copy of tslab.
  const jupyter = createRequire(path.join(libDir(), 'notebook', 'display.js'))('tslab/dist/jupyter.js') as { lastWriteDisplayData?: WriteDisplayData | null };
  return {
    display(data, metadata = {}) {
      const write = jupyter.lastWriteDisplayData;
      if (typeof write !== 'function') throw new Error(`${NOT_IN_KERNEL} (tslab has no cell writer yet)`);
      write({ data, metadata, transient: {} }, false);
    },
  };
}

/** Sends one bundle to the current sink. */
export function display(data: MimeBundle, metadata?: Record<string, unknown>): void {
  sink ??= tslabSink();
  sink.display(data, metadata);
}

/** A sink that keeps what it is given (tests; or collecting outputs in a script). */
export function memorySink(): DisplaySink & { outputs: { data: MimeBundle; metadata: Record<string, unknown> }[] } {
  const outputs: { data: MimeBundle; metadata: Record<string, unknown> }[] = [];
  return { outputs, display: (data, metadata = {}) => void outputs.push({ data, metadata }) };
}
