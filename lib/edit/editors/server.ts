/**
 * A local edit server speaking the Hugging Face image-to-image protocol (protocol.ts), backed by any
 * `ImageEditor` (in practice the offline editors), so the real `@huggingface/inference` client is exercised
 * end to end over HTTP in tests and offline runs, and a remote GPU box can serve edits the same way.
 *
 *   POST <any path>  edit (JSON body as in protocol.ts) → 200 image/png (or image/jpeg)
 *   GET  /health     → 200 { status: "ok", editor: <description> }
 *
 * Errors are JSON { error }: 400 unparseable or raw-image body, 401 wrong/missing bearer token (only when the
 * server has a token), 405 other methods, 413 body over the limit or an image over the pixel cap (read from
 * the PNG/JPEG header before anything is decoded), 415 other content types, 422 a request
 * the editor cannot serve (bad field, undecodable image, no edit for it), 500 an editor failure.
 *
 * Faults can be injected for tests: a queue of status answers (429/503 with Retry-After), delays (slow
 * responses, for client timeouts) and dropped connections, each consumed by the next edit requests.
 * Binds to 127.0.0.1 unless told otherwise.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { encodePng, imageHeaderSize } from '../../util/image.js';
import { EditInputError, type ImageEditor } from './editor.js';
import { encodeJpeg } from './image-io.js';
import { parseEditBody } from './protocol.js';

export type Fault = (
  | { /** Answer with this status and a JSON error instead of editing. */ status: number; retryAfter?: number | string; estimatedTime?: number; error?: string }
  | { /** Wait this long, then edit as usual. */ delayMs: number }
  | { /** Close the connection without answering. */ drop: true }
) & { /** How many consecutive edit requests this fault answers (default 1). */ times?: number };

export interface EditServerOptions {
  editor: ImageEditor;
  /** Default 127.0.0.1: the server has no authentication unless `token` is set. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** If set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Image format of the answers (hosted endpoints often answer JPEG). */
  format?: 'png' | 'jpeg';
  maxBodyBytes?: number;
  /**
   * Most pixels (width × height) of an image in a request (default 2048²). A compressed PNG of 83 KB can
   * claim 8000×8000 pixels, which would take over a gigabyte to decode; the header says so first.
   */
  maxPixels?: number;
  /** One line per request (method, path, status, ms). */
  log?: (line: string) => void;
  /**
   * Answers an edit no sooner than this many ms after its request arrived (default 0): stands in for a
   * diffusion model's seconds per edit, to see what a run does with a real InstructPix2Pix behind it.
   */
  latencyMs?: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  status: number;
  authorization: string | undefined;
  contentType: string | undefined;
  /** The JSON body's `parameters` with image fields replaced by their length. */
  parameters?: Record<string, unknown>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class EditServer {
  /** Every request answered so far, oldest first. */
  readonly requests: ReceivedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  private constructor(
    private readonly server: http.Server,
    private readonly opts: Required<Omit<EditServerOptions, 'token' | 'log'>> & Pick<EditServerOptions, 'token' | 'log'>,
    readonly url: string,
  ) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: EditServerOptions): Promise<EditServer> {
    const opts = { host: '127.0.0.1', port: 0, format: 'png' as const, maxBodyBytes: 64 << 20, maxPixels: 2048 * 2048, latencyMs: 0, ...options };
    let self: EditServer | null = null;
    const server = http.createServer((req, res) => void self!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`edit server: cannot listen on ${opts.host}:${opts.port} (${(e as Error).message})`)));
      server.listen(opts.port, opts.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    self = new EditServer(server, opts, `http://${host}:${port}/`);
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Queues faults; each answers the next `times` edit requests, in order. */
  injectFaults(...faults: Fault[]): void {
    this.faults.push(...faults.map((f) => ({ ...f })));
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private nextFault(): Fault | null {
    const f = this.faults[0];
    if (!f) return null;
    const times = f.times ?? 1;
    if (times <= 1) this.faults.shift();
    else f.times = times - 1;
    return f;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const record: ReceivedRequest = {
      method: req.method ?? '?',
      path,
      status: 0,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
    };
    res.on('error', () => {});
    try {
      if (req.method === 'GET' && path === '/health') {
        this.send(res, record, 200, 'application/json', Buffer.from(JSON.stringify({ status: 'ok', editor: this.opts.editor.describe() })));
        return;
      }
      if (req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed: POST an edit, or GET /health`, { Allow: 'POST, GET' });
      this.checkAuth(req);
      const fault = this.nextFault();
      if (fault && 'drop' in fault) {
        record.status = -1;
        this.requests.push(record);
        req.socket.destroy();
        return;
      }
      if (fault && 'status' in fault) {
        req.resume();
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
        const extra = fault.estimatedTime !== undefined ? { estimated_time: fault.estimatedTime } : {};
        throw new HttpError(fault.status, fault.error ?? `injected fault ${fault.status}`, headers, extra);
      }
      const body = await this.readBody(req);
      if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
      const { request } = this.parse(req, body, record);
      let out;
      try {
        out = await this.opts.editor.edit(request);
      } catch (e) {
        if (e instanceof EditInputError) throw new HttpError(422, e.message);
        throw new HttpError(500, `editor ${this.opts.editor.id} failed: ${(e as Error).message}`);
      }
      const bytes = this.opts.format === 'jpeg' ? encodeJpeg(out) : encodePng(out);
      const early = this.opts.latencyMs - (performance.now() - t0);
      if (early > 0) await new Promise((r) => setTimeout(r, early));
      this.send(res, record, 200, `image/${this.opts.format}`, Buffer.from(bytes));
    } catch (e) {
      const he = e instanceof HttpError ? e : new HttpError(500, `edit server: ${(e as Error).message}`);
      this.send(res, record, he.status, 'application/json', Buffer.from(JSON.stringify({ error: he.message, ...he.extra })), he.headers);
    } finally {
      this.opts.log?.(`${record.method} ${record.path} ${record.status} ${(performance.now() - t0).toFixed(0)} ms`);
    }
  }

  private checkAuth(req: http.IncomingMessage): void {
    const token = this.opts.token;
    if (!token) return;
    const got = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${token}`);
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      req.resume();
      throw new HttpError(401, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' });
    }
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    const limit = this.opts.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.removeAllListeners('data');
          req.resume();
          reject(new HttpError(413, `body over ${limit} bytes`, { Connection: 'close' }));
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', (e) => reject(new HttpError(400, `body: ${e.message}`)));
    });
  }

  private parse(req: http.IncomingMessage, body: Buffer, record: ReceivedRequest): ReturnType<typeof parseEditBody> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type.startsWith('image/') || type === 'application/octet-stream' || type === '') {
      throw new HttpError(400, 'a raw image body carries no instruction: send JSON { inputs: <base64 image>, parameters: { prompt, ... } }');
    }
    if (type !== 'application/json') throw new HttpError(415, `content type ${type} not supported: send application/json`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `body is not JSON (${(e as Error).message})`);
    }
    const params = (json as { parameters?: Record<string, unknown> })?.parameters;
    if (params && typeof params === 'object') {
      record.parameters = Object.fromEntries(
        Object.entries(params).map(([k, v]) => [k, k === 'original_image' && typeof v === 'string' ? `<${v.length} chars>` : v]),
      );
    }
    this.checkPixels(json);
    try {
      return parseEditBody(json);
    } catch (e) {
      throw new HttpError(422, (e as Error).message);
    }
  }

  /** Refuses images over maxPixels from their headers, before parseEditBody decodes them. */
  private checkPixels(json: unknown): void {
    const body = json as { inputs?: unknown; parameters?: { original_image?: unknown } } | null;
    for (const [field, v] of [
      ['inputs', body?.inputs],
      ['parameters.original_image', body?.parameters?.original_image],
    ] as const) {
      if (typeof v !== 'string') continue;
      const size = imageHeaderSize(Buffer.from(v.startsWith('data:') ? v.slice(v.indexOf(',') + 1) : v, 'base64'));
      if (size && size.width * size.height > this.opts.maxPixels) {
        throw new HttpError(413, `${field}: ${size.width}×${size.height} pixels, over the limit of ${this.opts.maxPixels} (maxPixels)`);
      }
    }
  }

  private send(res: http.ServerResponse, record: ReceivedRequest, status: number, type: string, body: Buffer, headers: Record<string, string> = {}): void {
    record.status = status;
    this.requests.push(record);
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(body.length), ...headers });
    res.end(body);
  }
}
