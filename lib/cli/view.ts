/**
 * `gae view <run dir or avatar .ply> [--edited <run dir or .ply>] [--sequence <dataset>[:split]]`
 * Serves the real-time avatar viewer on localhost (lib/viewer/server.ts); open the printed URL in a
 * WebGPU browser (Chrome/Chromium ≥ 113, or with --enable-unsafe-webgpu).
 */
import { Command } from 'commander';
import { startViewerServer } from '../viewer/server.js';

const program = new Command()
  .name('viewer')
  .description('Real-time viewer of a Gaussian head avatar in the browser (WebGPU)')
  .argument('<avatar>', 'run directory (its latest checkpoint) or avatar .ply')
  .option('--edited <path>', 'a second avatar to toggle to (run directory or .ply)')
  .option(
    '--sequence <spec>',
    "driving sequence: dataset folder, <dataset>:<split> or transforms_<split>.json (default: the run's dataset, test split; else synthetic)",
  )
  .option('--port <n>', 'port (0 = any free one)', '8090')
  .option('--host <addr>', 'address to listen on', '127.0.0.1')
  .option('--size <WxH>', 'canvas size in pixels', '512x512')
  .action(async (avatar: string, o: { edited?: string; sequence?: string; port: string; host: string; size: string }) => {
    const m = /^(\d+)x(\d+)$/.exec(o.size);
    if (!m) throw new Error(`--size: expected WxH, e.g. 512x512, got "${o.size}"`);
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0..65535, got "${o.port}"`);
    const v = await startViewerServer({ avatar, edited: o.edited, sequence: o.sequence, port, host: o.host, width: Number(m[1]), height: Number(m[2]) });
    const a = v.info.avatars;
    console.log(`avatar:   ${a.original!.source} (${a.original!.count} Gaussians)`);
    if (a.edited) console.log(`edited:   ${a.edited.source} (${a.edited.count} Gaussians)`);
    if (v.info.sequence) console.log(`sequence: ${v.info.sequence.source} (${v.info.sequence.frames} frames)`);
    console.log(`viewer:   ${v.url}   (Ctrl-C to stop)`);
    const stop = () => void v.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', stop);
    // `npm run viewer` runs us under a shell; should a signal end the shell but not reach us (a shell that
    // does not forward it), we are re-parented: exit with the parent rather than keep the port.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop();
    }, 500).unref();
  });

program.parseAsync().catch((e: Error) => {
  console.error(`viewer: ${e.message}`);
  process.exit(1);
});
