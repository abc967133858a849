/**
 * InstructPix2Pix-class editing through `@huggingface/inference` v4's `imageToImage`: the hosted Inference
 * API (needs HF_TOKEN), a self-hosted endpoint (`endpointUrl`, token optional), or our local edit server.
 * The request on the wire is described in protocol.ts.
 *
 * The library's own retry (it re-sends every 503 immediately, forever) is switched off; this client retries
 * 429, 5xx, per-attempt timeouts and dropped connections with exponential backoff and jitter, honouring
 * Retry-After (and a loading model's `estimated_time`), and fails at once, naming the URL and the cause,
 * on an endpoint that cannot be reached (refused, unknown host) and on other 4xx answers.
 */
import { imageToImage, InferenceClientHubApiError, InferenceClientProviderApiError, type InferenceProvider } from '@huggingface/inference';
import type { RgbImage } from '../../util/image.js';
import { checkEditRequest, HF_CLIENT_DEFAULTS, type EditRequest, type EditorDescription, type ImageEditor } from './editor.js';
import { decodeImage, resizeBilinear } from './image-io.js';
import { editParameters } from './protocol.js';
import { encodePng } from '../../util/image.js';

export const HF_TOKEN_ENV = 'HF_TOKEN';
export const DEFAULT_EDIT_MODEL = 'timbrooks/instruct-pix2pix';

export interface HfEditorOptions {
  /** Hub model id (default timbrooks/instruct-pix2pix); with `endpointUrl` it only names the editor. */
  model?: string;
  /** A self-hosted endpoint (or our edit server); the request goes exactly to this URL. */
  endpointUrl?: string;
  /** Default: the HF_TOKEN environment variable. Required without `endpointUrl`. */
  token?: string;
  /** Hosted provider (default hf-inference); not allowed with `endpointUrl`. */
  provider?: InferenceProvider;
  /** Per attempt (default HF_CLIENT_DEFAULTS, editor.ts). */
  timeoutMs?: number;
  /** Retries after the first attempt (default HF_CLIENT_DEFAULTS). */
  maxRetries?: number;
  /** Backoff before retry k (from 0) is min(max, base·2^k) · U(0.5, 1) (defaults 1 s, 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After / estimated_time honoured before giving up (default 300 s). */
  maxRetryAfterMs?: number;
  numInferenceSteps?: number;
  /** Send the original image and the view as extra parameters (default: only with `endpointUrl`). */
  extras?: boolean;
  /** Test hooks. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** Where each retry is announced, with its reason and wait (default stderr; a long silence looks like a hang). */
  log?: (line: string) => void;
}

/** An edit that failed for good: which URL, after how many attempts, and why. */
export class EditEndpointError extends Error {
  override name = 'EditEndpointError';
  constructor(
    message: string,
    readonly url: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Connection failures that a retry cannot fix (the endpoint is not there). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_NONAME', 'ERR_INVALID_URL']);

interface AttemptLog {
  url: string;
  status?: number;
  retryAfter?: string | null;
}

interface Failure {
  retryable: boolean;
  reason: string;
  status?: number;
  /** Server-requested wait, ms. */
  waitMs?: number;
}

function errnoOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function causeMessage(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    parts.push(cur.message);
    cur = cur.cause;
  }
  return parts.join(': ');
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (v == null || v.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(parseFloat(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export class HfImageEditor implements ImageEditor {
  readonly id: string;
  readonly model: string;
  readonly endpointUrl: string | undefined;
  private readonly token: string | undefined;
  private readonly o: Required<Pick<HfEditorOptions, 'timeoutMs' | 'maxRetries' | 'backoffBaseMs' | 'backoffMaxMs' | 'maxRetryAfterMs' | 'extras'>> &
    HfEditorOptions;

  constructor(options: HfEditorOptions = {}) {
    this.model = options.model ?? DEFAULT_EDIT_MODEL;
    if (options.endpointUrl !== undefined) {
      let u: URL;
      try {
        u = new URL(options.endpointUrl);
      } catch {
        throw new Error(`HF editor: endpointUrl "${options.endpointUrl}" is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`HF editor: endpointUrl "${options.endpointUrl}" must be http(s)`);
      if (options.provider) throw new Error('HF editor: give either endpointUrl or provider, not both');
    }
    this.endpointUrl = options.endpointUrl;
    const token = options.token ?? process.env[HF_TOKEN_ENV];
    this.token = token && token.trim() !== '' ? token.trim() : undefined;
    if (!this.token && !this.endpointUrl) {
      throw new Error(
        `HF editor: no Hugging Face token. Set the ${HF_TOKEN_ENV} environment variable (or pass token) to call ${this.model} ` +
          `on the hosted Inference API; a self-hosted endpointUrl may run without one.`,
      );
    }
    this.o = {
      ...HF_CLIENT_DEFAULTS,
      backoffBaseMs: 1000,
      backoffMaxMs: 60_000,
      maxRetryAfterMs: 300_000,
      ...options,
      extras: options.extras ?? options.endpointUrl !== undefined,
    };
    for (const k of ['timeoutMs', 'maxRetries', 'backoffBaseMs', 'backoffMaxMs', 'maxRetryAfterMs'] as const) {
      if (!(Number.isFinite(this.o[k]) && this.o[k] >= 0)) throw new Error(`HF editor: ${k} must be a non-negative number, got ${this.o[k]}`);
    }
    this.id = `hf:${this.model}`;
  }

  /** Where requests go, for messages. */
  get url(): string {
    return this.endpointUrl ?? `https://router.huggingface.co/${this.o.provider ?? 'hf-inference'}/models/${this.model}`;
  }

  describe(): EditorDescription {
    return {
      id: this.id,
      settings: {
        model: this.model,
        endpoint: this.endpointUrl ?? `provider:${this.o.provider ?? 'hf-inference'}`,
        numInferenceSteps: this.o.numInferenceSteps ?? null,
        extras: this.o.extras,
      },
    };
  }

  async edit(req: EditRequest): Promise<RgbImage> {
    checkEditRequest(req, `HF editor ${this.model}`);
    const png = encodePng(req.image);
    const parameters = editParameters(req, {
      extras: this.o.extras,
      ...(this.o.numInferenceSteps !== undefined ? { numInferenceSteps: this.o.numInferenceSteps } : {}),
    });
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const random = this.o.random ?? Math.random;
    const attempts = this.o.maxRetries + 1;
    let last: Failure | null = null;
    let lastUrl = this.url;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const log: AttemptLog = { url: this.url };
      const result = await this.attempt(png, parameters, log);
      lastUrl = log.url;
      if ('image' in result) return this.fit(result.image, req);
      last = result;
      if (!result.retryable) {
        throw new EditEndpointError(`HF editor: ${log.url}: ${result.reason}`, log.url, attempt + 1, result.status);
      }
      if (attempt + 1 >= attempts) break;
      let delay: number;
      if (result.waitMs !== undefined) {
        if (result.waitMs > this.o.maxRetryAfterMs) {
          throw new EditEndpointError(
            `HF editor: ${log.url}: ${result.reason}; the server asks to wait ${(result.waitMs / 1000).toFixed(0)} s, over maxRetryAfterMs`,
            log.url,
            attempt + 1,
            result.status,
          );
        }
        delay = result.waitMs;
      } else {
        delay = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** attempt) * (0.5 + 0.5 * random());
      }
      this.o.onRetry?.({ attempt: attempt + 1, delayMs: delay, reason: result.reason });
      (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
        `HF editor: ${log.url}: ${result.reason}; retry ${attempt + 1}/${this.o.maxRetries} in ${(delay / 1000).toFixed(1)} s`,
      );
      await sleep(delay);
    }
    throw new EditEndpointError(`HF editor: ${lastUrl}: gave up after ${attempts} attempts; last: ${last!.reason}`, lastUrl, attempts, last!.status);
  }

  /** One HTTP exchange; classifies a failure as retryable or not. */
  private async attempt(png: Uint8Array, parameters: Record<string, unknown>, log: AttemptLog): Promise<{ image: RgbImage } | Failure> {
    const baseFetch = this.o.fetch ?? fetch;
    // Wraps fetch to ask for PNG/JPEG and to see the status and Retry-After, which the library's errors drop.
    const recordingFetch: typeof fetch = async (input, init) => {
      log.url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const headers = { ...(init?.headers as Record<string, string> | undefined), Accept: 'image/png, image/jpeg' };
      const res = await baseFetch(input, { ...init, headers });
      log.status = res.status;
      log.retryAfter = res.headers.get('retry-after');
      return res;
    };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${this.o.timeoutMs} ms`));
    }, this.o.timeoutMs);
    try {
      const blob = await imageToImage(
        {
          ...(this.token ? { accessToken: this.token } : {}),
          model: this.model,
          ...(this.endpointUrl ? { endpointUrl: this.endpointUrl } : { provider: this.o.provider ?? 'hf-inference' }),
          inputs: new Blob([png], { type: 'image/png' }),
          parameters,
        },
        { retry_on_error: false, fetch: recordingFetch, signal: controller.signal },
      );
      const bytes = new Uint8Array(await blob.arrayBuffer());
      try {
        return { image: decodeImage(bytes, `answer of ${log.url}`) };
      } catch (e) {
        return { retryable: false, reason: `answered 200 but not with an image (${(e as Error).message})`, status: 200 };
      }
    } catch (e) {
      return this.classify(e, log, timedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  private classify(e: unknown, log: AttemptLog, timedOut: boolean): Failure {
    if (timedOut) return { retryable: true, reason: `no answer within ${this.o.timeoutMs} ms (timeoutMs)` };
    // Provider errors come from the edit request, hub errors from the model→provider lookup before it.
    if (e instanceof InferenceClientProviderApiError || e instanceof InferenceClientHubApiError) {
      const status = e.httpResponse.status;
      const body = e.httpResponse.body as { estimated_time?: unknown } | string;
      const estimated = typeof body === 'object' && body && typeof body.estimated_time === 'number' ? body.estimated_time * 1000 : undefined;
      const waitMs = parseRetryAfter(log.retryAfter) ?? estimated;
      const detail = e.message.replace(/^Failed to perform inference: /, '');
      let reason = `HTTP ${status}: ${detail}`;
      if (status === 401 || status === 403) {
        reason += this.token ? ' (is the token valid for this model?)' : ` (no token sent: set ${HF_TOKEN_ENV} or pass token)`;
      }
      const retryable = status === 429 || status >= 500;
      return { retryable, reason, status, ...(retryable && waitMs !== undefined ? { waitMs } : {}) };
    }
    const code = errnoOf(e);
    if (e instanceof Error && e.name === 'AbortError') return { retryable: false, reason: `aborted (${causeMessage(e)})` };
    if (code && UNREACHABLE.has(code)) {
      return { retryable: false, reason: `endpoint unreachable (${causeMessage(e)})` };
    }
    if (e instanceof TypeError && /fetch failed/.test(e.message)) {
      return { retryable: true, reason: `connection failed (${causeMessage(e)})` };
    }
    // Input, routing and output errors of the library, and anything else: not transient.
    return { retryable: false, reason: causeMessage(e) || String(e) };
  }

  private fit(img: RgbImage, req: EditRequest): RgbImage {
    // Diffusion endpoints answer at multiples of 8; the loop wants the render's size back.
    return img.width === req.image.width && img.height === req.image.height ? img : resizeBilinear(img, req.image.width, req.image.height);
  }
}
