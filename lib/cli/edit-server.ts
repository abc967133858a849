/**
 * Serves 2D edits over Hugging Face's image-to-image protocol (lib/edit/protocol.ts) from an offline editor,
 * so `HfImageEditor({ endpointUrl })` runs with no diffusion model and no network.
 *
 *   gae edit-server [--port 7861] [--host 127.0.0.1] [--editor offline|oracle|identity]
 *                   [--ground-truth toy|<module.ts>] [--size 32] [--inconsistency 1] [--editor-seed 0]
 *                   [--format png|jpeg] [--token-env EDIT_SERVER_TOKEN] [--cache <dir>] [--latency <ms>] [--quiet]
 *
 * `--ground-truth <module>` imports a module whose `groundTruth` (or default) export is an EditGroundTruth or
 * a function returning one (the data module's renderer); `toy` is the built-in procedural face.
 */
import { Command, Option } from 'commander';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EditServer } from '../edit/editors/server.js';
import { IdentityEditor, OfflineEditor, OracleEditor, type EditGroundTruth } from '../edit/editors/offline.js';
import { ToyGroundTruth, TOY_EDITS } from '../edit/editors/toy.js';
import { cachedEditor } from '../edit/editors/cache.js';
import type { ImageEditor } from '../edit/editors/editor.js';

async function loadGroundTruth(spec: string, size: number): Promise<EditGroundTruth> {
  if (spec === 'toy') return new ToyGroundTruth(size, size);
  const file = path.resolve(spec);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`--ground-truth ${spec}: cannot import ${file} (${(e as Error).message})`, { cause: e });
  }
  let gt = mod.groundTruth ?? mod.default;
  if (typeof gt === 'function') gt = await (gt as () => unknown)();
  const ok = gt && typeof (gt as EditGroundTruth).lookup === 'function' && typeof (gt as EditGroundTruth).id === 'string';
  if (!ok)
    throw new Error(
      `--ground-truth ${spec}: export 'groundTruth' (or default) is not an EditGroundTruth { id, lookup(view, instruction) } nor a function returning one`,
    );
  return gt as EditGroundTruth;
}

function num(name: string, min: number, max: number, integer = false) {
  return (v: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
      throw new Error(`--${name}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${v}"`);
    }
    return x;
  };
}

async function main(): Promise<void> {
  const program = new Command('edit-server')
    .description('Serve offline 2D edits over the Hugging Face image-to-image protocol')
    .option('--port <n>', 'port (0 = any free one)', num('port', 0, 65535, true), 7861)
    .option('--host <addr>', 'address to bind; anything but loopback exposes the server', '127.0.0.1')
    .addOption(new Option('--editor <kind>', 'which editor answers').choices(['offline', 'oracle', 'identity']).default('offline'))
    .option('--ground-truth <spec>', "'toy' or a module exporting an EditGroundTruth", 'toy')
    .option('--size <px>', 'image size of the toy ground truth', num('size', 8, 4096, true), 32)
    .option('--inconsistency <s>', 'offline editor: scale of every failure mode in [0, 1]', num('inconsistency', 0, 1), 1)
    .option('--editor-seed <n>', 'offline editor: seed of its per-camera, per-timestep and per-view failures', num('editor-seed', 0, 0xffffffff, true), 0)
    .addOption(new Option('--format <fmt>', 'answer image format').choices(['png', 'jpeg']).default('png'))
    .option('--token-env <name>', 'require `Authorization: Bearer $<name>` (the token never goes on the command line)')
    .option('--cache <dir>', 'cache edits on disk (content-addressed)')
    .option('--latency <ms>', "answer each edit no sooner than this (a diffusion model's seconds per edit, emulated)", num('latency', 0, 600_000, true), 0)
    .option('--quiet', 'no per-request log lines')
    .parse();
  const o = program.opts<{
    port: number;
    host: string;
    editor: 'offline' | 'oracle' | 'identity';
    groundTruth: string;
    size: number;
    inconsistency: number;
    editorSeed: number;
    format: 'png' | 'jpeg';
    tokenEnv?: string;
    cache?: string;
    latency: number;
    quiet?: boolean;
  }>();

  let token: string | undefined;
  if (o.tokenEnv) {
    token = process.env[o.tokenEnv];
    if (!token) throw new Error(`--token-env ${o.tokenEnv}: that environment variable is empty`);
  }
  let editor: ImageEditor =
    o.editor === 'identity'
      ? new IdentityEditor()
      : o.editor === 'oracle'
        ? new OracleEditor(await loadGroundTruth(o.groundTruth, o.size))
        : new OfflineEditor(await loadGroundTruth(o.groundTruth, o.size), { inconsistency: o.inconsistency, seed: o.editorSeed });
  if (o.cache) editor = cachedEditor(editor, o.cache);

  const server = await EditServer.start({
    editor,
    host: o.host,
    port: o.port,
    format: o.format,
    latencyMs: o.latency,
    ...(token ? { token } : {}),
    ...(o.quiet ? {} : { log: (line: string) => console.log(line) }),
  });
  const d = editor.describe();
  console.log(`edit server: ${server.url} (${d.id}${o.editor === 'offline' ? `, inconsistency ${o.inconsistency}` : ''})`);
  if (o.editor !== 'identity' && o.groundTruth === 'toy') {
    console.log(`toy ground truth ${o.size}x${o.size}, subject any, cameras 0..2, timesteps 0.. (mouth closed at 0); instructions:`);
    for (const k of Object.keys(TOY_EDITS)) console.log(`  "${k}"`);
  }
  console.log(`client: new HfImageEditor({ endpointUrl: '${server.url}'${token ? `, token: process.env.${o.tokenEnv}` : ''} })`);

  const stop = async (sig: string) => {
    console.log(`${sig}: closing`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(`edit-server: ${(e as Error).message}`);
  process.exit(1);
});
