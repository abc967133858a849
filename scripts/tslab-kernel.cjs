/**
 * Starts tslab's kernel with one change: a failed cell's execute_reply carries the error (ename, evalue,
 * traceback), which tslab leaves out; it only prints the error to the cell's stderr. Headless runners
 * (nbconvert / nbclient) raise CellExecutionError from that reply, so without this their message has the
 * failing cell's source but not its error. Front ends show the stderr output as before.
 * Written against tslab 1.0.22 (package-lock.json); if its internals move, the kernel still starts, unpatched.
 */
'use strict';
const jupyter = require('tslab/dist/jupyter.js');

const MAX_ERROR_CHARS = 20000;
const proto = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
if (proto && typeof proto.handleExecute === 'function') {
  const handleExecute = proto.handleExecute;
  proto.handleExecute = async function (req, writeStream, writeDisplayData) {
    let stderr = '';
    const tee = (name, text) => {
      if (name === 'stderr' && stderr.length < MAX_ERROR_CHARS) stderr += text;
      return writeStream(name, text);
    };
    const reply = await handleExecute.call(this, req, tee, writeDisplayData);
    if (reply && reply.status === 'error' && reply.traceback === undefined) {
      // Stack frames inside tslab and node:vm say nothing about the cell; the front end still shows them.
      const lines = stderr
        .replace(/\s+$/, '')
        .split('\n')
        .filter((l) => !/^\s+at .*(node:vm|node_modules[\\/]tslab[\\/]|tslab-kernel\.cjs|sigintHandlersWrap)/.test(l));
      const named = lines.map((l) => /^(?:Uncaught )?((?:[A-Za-z_$][\w$]*)?(?:Error|Exception)):\s*(.*)$/.exec(l.trim())).find(Boolean);
      // tslab prints type errors as "<file> <line>:<col> - <message>".
      const typeError = lines.find((l) => /\d+:\d+ - /.test(l));
      reply.ename = named ? named[1] : typeError ? 'TypeScriptError' : 'Error';
      reply.evalue = named ? named[2] : typeError ? typeError.trim() : lines[0] || 'the cell failed (no message)';
      reply.traceback = lines;
    }
    return reply;
  };
} else {
  console.error('gae-tslab: tslab internals changed (no JupyterHandlerImpl.handleExecute); failed cells will not carry their error in execute_reply');
}

require('tslab/dist/main.js').main();
