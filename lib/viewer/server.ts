/**
 * The viewer's server (`gae view <run dir or .ply>`): plain node:http on localhost. It bundles the
 * page (lib/viewer/page.ts, with lib/ inside) with esbuild once at start, and serves the head model and
 * the avatars in the compact wire format (model-format.ts), the driving sequence as JSON and the
 * ICT-FaceKit license. Every input is read and validated before the server listens, so a bad path or file
 * fails at once with a message naming it.
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { loadAvatar, resolveAvatarFile } from '../avatar/load.js';
import { loadDataset, SPLITS, type SplitName } from '../data/dataset.js';
import { makeSequence } from '../data/sequences.js';
import { loadHeadModel, N_IDENTITY } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import { libDir } from '../util/lib-dir.js';
import { encodeAvatar, encodeHeadModel } from './model-format.js';
import { pageHtml } from './page-html.js';
import { ROUTES, type AvatarSlot, type HeadParamsJson, type SequenceJson, type ViewerInfo } from './protocol.js';

export interface ViewerOptions {
  /** A run directory (its latest checkpoint's avatar.ply) or an avatar .ply. */
  avatar: string;
  /** Another avatar to toggle to (e.g. the edited one), same forms. */
  edited?: string;
  /**
   * Driving sequence: a dataset folder (its `test` split), `<dataset>:<split>`, or a transforms_*.json.
   * Default: the run's dataset (config.json `data`, test split) when it has one, else a synthetic sequence.
   */
  sequence?: string;
  port?: number; // default 0: any free port
  host?: string; // default 127.0.0.1
  headDir?: string;
  width?: number; // canvas, pixels (default 512)
  height?: number; // default 512
}

export interface RunningViewer {
  url: string;
  info: ViewerInfo;
  close(): Promise<void>;
}

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

const toJson = (p: HeadParams): HeadParamsJson => ({
  identity: Array.from(p.identity),
  expression: Array.from(p.expression),
  jaw: [...p.jaw],
  neck: [...p.neck],
  translation: [...p.translation],
});

/** The dataset folder a run was trained on (config.json `data`), if it names one that exists. */
async function runDataset(avatarArg: string): Promise<string | null> {
  const cfg = path.join(path.resolve(avatarArg), 'config.json');
  if (!(await exists(cfg))) return null;
  try {
    const data = (JSON.parse(await fs.readFile(cfg, 'utf8')) as { data?: unknown }).data;
    if (typeof data !== 'string') return null;
    for (const d of [path.resolve(data), path.resolve(path.dirname(cfg), data)]) if (await exists(path.join(d, 'dataset.json'))) return d;
  } catch {
    // a broken config is the run's problem, not the viewer's: fall back to a synthetic sequence
  }
  return null;
}

/** Resolves the driving sequence (see ViewerOptions.sequence). */
export async function loadViewerSequence(spec: string | undefined, avatarArg: string): Promise<SequenceJson> {
  let dir: string | null;
  let split: SplitName = 'test';
  if (spec) {
    const m = /^(.*):(train|val|test|cross)$/.exec(spec);
    const target = m ? m[1]! : spec;
    if (m) split = m[2] as SplitName;
    const abs = path.resolve(target);
    const st = await fs.stat(abs).catch(() => null);
    if (!st) throw new Error(`${target}: no such file or directory (--sequence wants a dataset folder, <dataset>:<split> or a transforms_*.json)`);
    if (st.isFile()) {
      const fm = /transforms_(train|val|test|cross)\.json$/.exec(abs);
      if (!fm) throw new Error(`${target}: not a transforms_<split>.json file`);
      split = fm[1] as SplitName;
      dir = path.dirname(abs);
    } else {
      dir = abs;
    }
    if (!(await exists(path.join(dir, 'dataset.json'))))
      throw new Error(`${path.join(dir, 'dataset.json')}: missing (--sequence ${spec} is not a dataset folder)`);
  } else {
    dir = await runDataset(avatarArg);
  }
  if (dir) {
    const ds = await loadDataset(dir, { checkFiles: false });
    const s = ds.splits[split];
    if (!SPLITS.includes(split) || s.timesteps.length === 0) throw new Error(`${s.file}: no timesteps to play`);
    const times = s.timesteps.map((t) => t.time);
    const dt = times.length > 1 ? (times[times.length - 1]! - times[0]!) / (times.length - 1) : 1 / 25;
    return { source: s.file, fps: dt > 0 ? 1 / dt : 25, frames: s.timesteps.map((t) => toJson(t.head)) };
  }
  // No dataset: a synthetic held-out performance on the mean identity (lib/data/sequences.ts).
  const seq = makeSequence({ frames: 120, seed: 1, identity: new Float32Array(N_IDENTITY), kind: 'heldout' });
  const dt = seq.times.length > 1 ? seq.times[1]! - seq.times[0]! : 1 / 25;
  return { source: 'synthetic held-out sequence (lib/data/sequences.ts, seed 1, mean identity)', fps: 1 / dt, frames: seq.params.map(toJson) };
}

/** Bundles the page with esbuild (a devDependency, loaded only here). */
export async function bundlePage(): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = path.resolve(libDir(), 'viewer/page.ts');
  const NODE_STUB = [
    "const no = (name) => () => { throw new Error(name + ' is not available in the browser'); };",
    'export const existsSync = () => false;',
    'export const promises = {};',
    "export const gunzipSync = no('node:zlib');",
    "export const createRequire = no('node:module');",
    "export const fileURLToPath = no('node:url');",
    "export const resolve = (...a) => a.join('/');",
    "export const join = (...a) => a.join('/');",
    'export const dirname = (p) => p;',
    'export default {};',
  ].join('\n');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    // Dawn's Node binding is imported lazily by lib/gpu/device.ts only outside browsers.
    external: ['webgpu'],
    plugins: [
      {
        // lib/head/model.ts and lib/util/lib-dir.ts import node:fs/path/zlib for loading from disk; the page
        // gets the head model from the server instead, so those imports only need to resolve.
        name: 'node-builtins-stub',
        setup(b) {
          b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
          b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: NODE_STUB, loader: 'js' }));
        },
      },
    ],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`${entry}: esbuild produced no output`);
  return out.text;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header, lower-cased, without the port; null when there is none. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const m = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(h);
  return m ? m[1]! : null;
}

/** Starts the viewer; resolves once it listens. */
export async function startViewerServer(opts: ViewerOptions): Promise<RunningViewer> {
  const head = await loadHeadModel(opts.headDir);
  const slots: Partial<Record<AvatarSlot, { bytes: Uint8Array; source: string; count: number; shDegree: number }>> = {};
  for (const [slot, arg] of [
    ['original', opts.avatar],
    ['edited', opts.edited],
  ] as const) {
    if (!arg) continue;
    const file = await resolveAvatarFile(arg);
    const g = await loadAvatar(file, []); // a partial avatar views fine: no triangle must keep a Gaussian
    const rel = path.relative(process.cwd(), file);
    const source = rel && !rel.startsWith('..') ? rel : file; // shown on the page
    slots[slot] = { bytes: encodeAvatar(g, source), source, count: g.count, shDegree: g.shDegree };
  }
  const sequence = await loadViewerSequence(opts.sequence, opts.avatar);
  const [script, headBytes] = await Promise.all([bundlePage(), Promise.resolve(encodeHeadModel(head))]);
  const licenseFile = path.join(head.dir, 'LICENSE');
  const license = await fs.readFile(licenseFile, 'utf8').catch(() => {
    throw new Error(`${licenseFile}: missing (the ICT-FaceKit license must travel with its data)`);
  });
  const info: ViewerInfo = {
    avatars: Object.fromEntries(Object.entries(slots).map(([k, v]) => [k, { source: v.source, count: v.count, shDegree: v.shDegree }])),
    sequence: { source: sequence.source, frames: sequence.frames.length, fps: sequence.fps },
    width: opts.width ?? 512,
    height: opts.height ?? 512,
  };
  const html = pageHtml(info);
  const sequenceText = JSON.stringify(sequence);

  const boundHost = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    // DNS rebinding: a page of another site, its name re-pointed at 127.0.0.1, would reach us with its own
    // name in Host. Only loopback names (and an address the user chose to bind) are answered.
    const host = hostOf(req.headers.host);
    if (host === null || !(LOOPBACK_HOSTS.has(host) || host === boundHost.toLowerCase())) {
      return send(
        403,
        'text/plain; charset=utf-8',
        `Host ${JSON.stringify(req.headers.host ?? '')} not allowed: open the viewer at http://localhost or http://127.0.0.1`,
      );
    }
    const p = url.pathname;
    if (p === ROUTES.page || p === '/index.html') return send(200, 'text/html; charset=utf-8', html);
    if (p === ROUTES.script) return send(200, 'text/javascript; charset=utf-8', script);
    if (p === ROUTES.info) return send(200, 'application/json', JSON.stringify(info));
    if (p === ROUTES.head) return send(200, 'application/octet-stream', headBytes);
    if (p === ROUTES.sequence) return send(200, 'application/json', sequenceText);
    if (p === ROUTES.license) return send(200, 'text/plain; charset=utf-8', license);
    for (const slot of ['original', 'edited'] as const) {
      if (p === ROUTES.avatar(slot)) {
        const s = slots[slot];
        return s
          ? send(200, 'application/octet-stream', s.bytes)
          : send(404, 'text/plain', `no ${slot} avatar (start the viewer with --edited <run dir or .ply>)`);
      }
    }
    if (p === '/favicon.ico') return send(204, 'text/plain', '');
    send(404, 'text/plain', `${p}: not found`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  // Browsers treat loopback addresses as secure contexts, which WebGPU needs (a LAN address would not be).
  const shown = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${shown}:${addr.port}/`;
  return {
    url,
    info,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
