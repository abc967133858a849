import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HfImageEditor, EditEndpointError, parseRetryAfter } from '../../lib/edit/editors/hf.js';
import { editConfig } from '../../lib/edit/config.js';
import { makeEditor } from '../../lib/edit/loop.js';
import { EditServer } from '../../lib/edit/editors/server.js';
import { OfflineEditor } from '../../lib/edit/editors/offline.js';
import { ToyGroundTruth } from '../../lib/edit/editors/toy.js';
import { editRequest, type EditRequest } from '../../lib/edit/editors/editor.js';
import { encodeJpeg, quantize8, resizeBilinear } from '../../lib/edit/editors/image-io.js';
import { toBase64Png } from '../../lib/edit/editors/protocol.js';
import { rgbImage } from '../../lib/util/image.js';

const gt = new ToyGroundTruth(32, 32);
// A large per-call jitter, so that the request's seed visibly reaches the editor through the wire.
const offline = new OfflineEditor(gt, { inconsistency: 0.7, jitter: { colour: 0.1 } });

function request(seed = 7, timestep = 3): EditRequest {
  const view = { subject: 'toy', camera: 1, timestep };
  const original = gt.original(view);
  // A "render" that differs from the original a little, on the 8-bit grid (what crosses HTTP as PNG).
  const image = quantize8({ ...original, data: original.data.map((v, i) => v * 0.9 + 0.05 * ((i % 7) / 7)) });
  return editRequest({ image, original, instruction: 'turn his teeth gold', seed, strength: 0.85, view });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

let server: EditServer;
let authServer: EditServer;
const savedToken = process.env.HF_TOKEN;
beforeAll(async () => {
  server = await EditServer.start({ editor: offline });
  authServer = await EditServer.start({ editor: offline, token: 'hf_test_token' });
});
afterAll(async () => {
  await server.close();
  await authServer.close();
});
afterEach(() => {
  server.clearFaults();
  server.requests.length = 0;
  if (savedToken === undefined) delete process.env.HF_TOKEN;
  else process.env.HF_TOKEN = savedToken;
});

describe('HF client against the local edit server', () => {
  it("returns the offline editor's edit for the same request, with every parameter on the wire", async () => {
    const client = new HfImageEditor({ endpointUrl: authServer.url, token: 'hf_test_token', numInferenceSteps: 20 });
    const req = request();
    const got = await client.edit(req);
    const want = quantize8(await offline.edit(req));
    expect(got.width).toBe(32);
    expect(got.height).toBe(32);
    expect(maxAbsDiff(got.data, want.data)).toBe(0);
    // The edit actually changed something (the test would pass trivially otherwise).
    expect(maxAbsDiff(got.data, req.image.data)).toBeGreaterThan(0.1);
    const rec = authServer.requests.at(-1)!;
    expect(rec.status).toBe(200);
    expect(rec.authorization).toBe('Bearer hf_test_token');
    expect(rec.contentType).toBe('application/json');
    expect(rec.parameters).toMatchObject({
      prompt: 'turn his teeth gold',
      guidance_scale: 7.5,
      image_guidance_scale: 1.5,
      strength: 0.85,
      seed: 7,
      num_inference_steps: 20,
      view: { subject: 'toy', camera: 1, timestep: 3 },
    });
    expect(String(rec.parameters!.original_image)).toMatch(/^<\d+ chars>$/);
  });

  it('needs no token for a self-hosted endpoint, and different seeds give different edits', async () => {
    delete process.env.HF_TOKEN;
    const client = new HfImageEditor({ endpointUrl: server.url });
    const a = await client.edit(request(1));
    const b = await client.edit(request(2));
    expect(maxAbsDiff(a.data, b.data)).toBeGreaterThan(0.01);
    expect(server.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('retries a 429, waiting what Retry-After says, then succeeds', async () => {
    server.injectFaults({ status: 429, retryAfter: 2, error: 'rate limited' });
    const sleeps: number[] = [];
    const retries: string[] = [];
    const client = new HfImageEditor({
      endpointUrl: server.url,
      sleep: async (ms) => void sleeps.push(ms),
      onRetry: (i) => retries.push(i.reason),
    });
    const got = await client.edit(request());
    expect(maxAbsDiff(got.data, quantize8(await offline.edit(request())).data)).toBe(0);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(sleeps).toEqual([2000]);
    expect(retries[0]).toMatch(/429.*rate limited/);
  });

  it('retries a 503 with exponential backoff, then gives up with a clear error', async () => {
    server.injectFaults({ status: 503, error: 'model is loading', times: 100 });
    const client = new HfImageEditor({ endpointUrl: server.url, maxRetries: 3, backoffBaseMs: 4, backoffMaxMs: 100 });
    const err = await client.edit(request()).catch((e) => e);
    expect(err).toBeInstanceOf(EditEndpointError);
    expect(err.message).toContain(server.url);
    expect(err.message).toMatch(/gave up after 4 attempts.*HTTP 503.*model is loading/);
    expect(err.status).toBe(503);
    expect(server.requests.map((r) => r.status)).toEqual([503, 503, 503, 503]);
  });

  it('backs off exponentially with jitter in [0.5, 1] of the step, capped', async () => {
    server.injectFaults({ status: 500, times: 4 });
    const sleeps: number[] = [];
    let k = 0;
    const rand = [0, 0.999, 0.5, 0];
    const client = new HfImageEditor({
      endpointUrl: server.url,
      maxRetries: 5,
      backoffBaseMs: 100,
      backoffMaxMs: 500,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => rand[k++]!,
    });
    await client.edit(request());
    expect(sleeps.map((s) => Math.round(s))).toEqual([50, 200, 300, 250]);
  });

  it("honours a loading model's estimated_time, and gives up when the wait is too long", async () => {
    server.injectFaults({ status: 503, estimatedTime: 3 });
    const sleeps: number[] = [];
    const client = new HfImageEditor({ endpointUrl: server.url, sleep: async (ms) => void sleeps.push(ms) });
    await client.edit(request());
    expect(sleeps).toEqual([3000]);
    server.injectFaults({ status: 429, retryAfter: 3600 });
    const err = await client.edit(request()).catch((e) => e);
    expect(err.message).toMatch(/wait 3600 s, over maxRetryAfterMs/);
  });

  it('retries a timed-out attempt and a dropped connection', async () => {
    server.injectFaults({ delayMs: 400 }, { drop: true });
    const reasons: string[] = [];
    const client = new HfImageEditor({ endpointUrl: server.url, timeoutMs: 150, backoffBaseMs: 1, onRetry: (i) => reasons.push(i.reason) });
    const got = await client.edit(request());
    expect(maxAbsDiff(got.data, quantize8(await offline.edit(request())).data)).toBe(0);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(/no answer within 150 ms/);
    expect(reasons[1]).toMatch(/connection failed/);
  });

  it('names the URL and the cause when the endpoint is unreachable, without retrying', async () => {
    const tmp = await EditServer.start({ editor: offline });
    const url = tmp.url;
    await tmp.close();
    let sleeps = 0;
    const client = new HfImageEditor({ endpointUrl: url, sleep: async () => void sleeps++ });
    const err = await client.edit(request()).catch((e) => e);
    expect(err).toBeInstanceOf(EditEndpointError);
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/unreachable.*ECONNREFUSED/);
    expect(err.attempts).toBe(1);
    expect(sleeps).toBe(0);
  });

  it('says which environment variable to set when the token is missing', () => {
    delete process.env.HF_TOKEN;
    expect(() => new HfImageEditor()).toThrow(/HF_TOKEN/);
    process.env.HF_TOKEN = 'hf_from_env';
    expect(() => new HfImageEditor()).not.toThrow();
  });

  it('does not retry a 401 and says the token is the problem', async () => {
    delete process.env.HF_TOKEN;
    const n = authServer.requests.length;
    const err = await new HfImageEditor({ endpointUrl: authServer.url }).edit(request()).catch((e) => e);
    expect(err.message).toMatch(/HTTP 401.*no token sent: set HF_TOKEN/);
    expect(authServer.requests.length - n).toBe(1);
  });

  it('does not retry a request the editor cannot serve (422)', async () => {
    const client = new HfImageEditor({ endpointUrl: server.url });
    const err = await client.edit({ ...request(), instruction: 'make him a cat' }).catch((e) => e);
    expect(err.message).toMatch(/HTTP 422.*no edit for toy\/cam1\/t3 and instruction "make him a cat"/);
    expect(server.requests).toHaveLength(1);
  });

  it('answers no sooner than its emulated latency, requests in parallel, with the same edits', async () => {
    const slow = await EditServer.start({ editor: offline, latencyMs: 1000 });
    try {
      const client = new HfImageEditor({ endpointUrl: slow.url });
      const t0 = performance.now();
      const got = await Promise.all([client.edit(request(1)), client.edit(request(2))]);
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(1000);
      // Each request waits from its own arrival: two at once take one latency, not two.
      expect(ms).toBeLessThan(1990);
      for (const [i, g] of got.entries()) expect(maxAbsDiff(g.data, quantize8(await offline.edit(request(i + 1))).data)).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('decodes a JPEG answer', async () => {
    const jpegServer = await EditServer.start({ editor: offline, format: 'jpeg' });
    try {
      const got = await new HfImageEditor({ endpointUrl: jpegServer.url }).edit(request());
      const want = await offline.edit(request());
      const mean = got.data.reduce((s, v, i) => s + Math.abs(v - want.data[i]!), 0) / got.data.length;
      expect(mean).toBeLessThan(0.02);
    } finally {
      await jpegServer.close();
    }
  });
});

describe('HF client settings from the edit config (issue 17 §10)', () => {
  const hfConfig = (editor: Record<string, unknown>) =>
    editConfig({ data: 'd', avatar: 'a', edit: { id: 'gold-teeth' }, editor: { kind: 'hf', ...editor } }, 'e.json');

  it('timeoutMs and maxRetries are config fields that reach the client; each retry is printed with its reason and wait', async () => {
    const c = hfConfig({ endpointUrl: server.url, timeoutMs: 150, maxRetries: 1 });
    expect([c.editor.timeoutMs, c.editor.maxRetries]).toEqual([150, 1]);
    expect(hfConfig({}).editor).toMatchObject({ timeoutMs: 60_000, maxRetries: 3 });
    expect(() => hfConfig({ timeoutMs: 0 })).toThrow(/e\.json: editor\.timeoutMs: /);
    expect(() => hfConfig({ retries: 2 })).toThrow("e.json: editor.retries: unknown key (did you mean 'maxRetries'?)");
    const editor = makeEditor(c, null as never, null as never) as HfImageEditor;
    server.injectFaults({ delayMs: 600, times: 2 });
    const lines: string[] = [];
    const err = await withStderr(lines, () => editor.edit(request()).catch((e) => e));
    expect(err).toBeInstanceOf(EditEndpointError);
    expect(err.message).toBe(`HF editor: ${server.url}: gave up after 2 attempts; last: no answer within 150 ms (timeoutMs)`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^HF editor: ${server.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no answer within 150 ms \\(timeoutMs\\); retry 1/1 in \\d+\\.\\d s\n$`),
    );
  });

  it('does not retry a 404 or a 400; does retry a 429', async () => {
    const sleeps: number[] = [];
    const client = new HfImageEditor({ endpointUrl: server.url, maxRetries: 4, sleep: async (ms) => void sleeps.push(ms), log: () => {} });
    for (const status of [404, 400]) {
      server.injectFaults({ status, error: 'no such model' });
      const err = await client.edit(request()).catch((e) => e);
      expect(err.attempts, String(status)).toBe(1);
      expect(err.message).toContain(`HTTP ${status}`);
    }
    expect(sleeps).toEqual([]);
    server.injectFaults({ status: 429, retryAfter: 1 });
    await client.edit(request());
    expect(sleeps).toEqual([1000]);
  });

  it('does not retry a refused port, by address or by name', async () => {
    const tmp = await EditServer.start({ editor: offline });
    const port = tmp.port;
    await tmp.close();
    for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
      let sleeps = 0;
      const client = new HfImageEditor({ endpointUrl: url, maxRetries: 5, sleep: async () => void sleeps++, log: () => {} });
      const err = await client.edit(request()).catch((e) => e);
      expect(err.attempts, url).toBe(1);
      expect(err.message).toMatch(/endpoint unreachable .*ECONNREFUSED/);
      expect(sleeps).toBe(0);
    }
  });
});

/** Collects what `fn` writes to stderr. */
async function withStderr<T>(lines: string[], fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}

describe('edit server protocol', () => {
  const post = (body: BodyInit, type?: string) => fetch(server.url, { method: 'POST', body, ...(type ? { headers: { 'Content-Type': type } } : {}) });

  it('answers health, and rejects bad methods, bodies and types with the right status', async () => {
    const health = await fetch(new URL('/health', server.url));
    expect(health.status).toBe(200);
    expect((await health.json()).editor.id).toBe('offline');
    expect((await fetch(server.url, { method: 'PUT', body: 'x' })).status).toBe(405);
    const raw = await post(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'image/png');
    expect(raw.status).toBe(400);
    expect((await raw.json()).error).toMatch(/no instruction/);
    expect((await post('{nope', 'application/json')).status).toBe(400);
    expect((await post('hello', 'text/plain')).status).toBe(415);
    const missing = await post(JSON.stringify({ inputs: toBase64Png(rgbImage(4, 4)), parameters: {} }), 'application/json');
    expect(missing.status).toBe(422);
    expect((await missing.json()).error).toMatch(/parameters\.prompt/);
    const notImage = await post(JSON.stringify({ inputs: 'aGVsbG8=', parameters: { prompt: 'x' } }), 'application/json');
    expect(notImage.status).toBe(422);
    expect((await notImage.json()).error).toMatch(/inputs: neither PNG nor JPEG/);
  });

  it('refuses a body over the limit with 413', async () => {
    const small = await EditServer.start({ editor: offline, maxBodyBytes: 1000 });
    try {
      const res = await fetch(small.url, { method: 'POST', body: 'x'.repeat(5000), headers: { 'Content-Type': 'application/json' } });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });
});

describe('edit server pixel cap (issue 17 §11)', () => {
  /** A PNG signature and IHDR claiming width × height, then nothing decodable: only the header is read. */
  const pngHeader = (width: number, height: number) => {
    const b = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
    b.writeUInt32BE(13, 8);
    b.write('IHDR', 12, 'latin1');
    b.writeUInt32BE(width, 16);
    b.writeUInt32BE(height, 20);
    b[24] = 8;
    b[25] = 2;
    return b;
  };
  const post = (url: string, inputs: string, original?: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        inputs,
        parameters: { prompt: 'turn his teeth gold', view: { subject: 'toy', camera: 1, timestep: 3 }, ...(original ? { original_image: original } : {}) },
      }),
    });

  it('answers 413 from the header of an 8000×8000 PNG, without decoding it', async () => {
    const res = await post(server.url, pngHeader(8000, 8000).toString('base64'));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe('inputs: 8000×8000 pixels, over the limit of 4194304 (maxPixels)');
  });

  it('applies the cap to original_image and to JPEG, and serves images within it', async () => {
    const capped = await EditServer.start({ editor: offline, maxPixels: 32 * 32 });
    try {
      const ok = toBase64Png(request().image); // 32×32
      expect((await post(capped.url, ok, toBase64Png(request().original))).status).toBe(200);
      const big = toBase64Png(rgbImage(33, 32));
      const r1 = await post(capped.url, ok, big);
      expect(r1.status).toBe(413);
      expect(((await r1.json()) as { error: string }).error).toMatch(/^parameters\.original_image: 33×32 pixels/);
      const jpeg = Buffer.from(encodeJpeg(rgbImage(40, 30))).toString('base64');
      const r2 = await post(capped.url, jpeg);
      expect(r2.status).toBe(413);
      expect(((await r2.json()) as { error: string }).error).toMatch(/^inputs: 40×30 pixels/);
    } finally {
      await capped.close();
    }
  });
});

describe('image plumbing', () => {
  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter(new Date(10_000 + 7000).toUTCString(), 10_000)).toBe(7000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('bilinear resize reproduces a linear ramp away from the borders', () => {
    const ramp = (w: number, h: number) => {
      const img = rgbImage(w, h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data.set([(x + 0.5) / w, (y + 0.5) / h, 0.5], (y * w + x) * 3);
      return img;
    };
    const up = resizeBilinear(ramp(8, 8), 16, 16);
    const want = ramp(16, 16);
    for (let y = 1; y < 15; y++)
      for (let x = 1; x < 15; x++) {
        for (let c = 0; c < 3; c++) expect(up.data[(y * 16 + x) * 3 + c]).toBeCloseTo(want.data[(y * 16 + x) * 3 + c]!, 6);
      }
  });
});

describe('HF client on the hosted path (the network replaced by a fetch stub)', () => {
  it('asks the hub for the provider mapping, then posts to the router with the token and no extras', async () => {
    const identity = await EditServer.start({ editor: new (await import('../../lib/edit/editors/offline.js')).IdentityEditor() });
    const seen: { url: string; auth: string | undefined; accept: string | undefined }[] = [];
    let hubFailures = 1;
    const stub: typeof fetch = async (input, init) => {
      const url = String(input);
      const headers = (init?.headers ?? {}) as Record<string, string>;
      seen.push({ url, auth: headers.Authorization, accept: headers.Accept });
      if (url.startsWith('https://huggingface.co/api/models/')) {
        if (hubFailures-- > 0) return new Response(JSON.stringify({ error: 'hub busy' }), { status: 503, headers: { 'Content-Type': 'application/json' } });
        const mapping = { 'hf-inference': { providerId: 'test/pix2pix-hosted', status: 'live', task: 'image-to-image' } };
        return new Response(JSON.stringify({ inferenceProviderMapping: mapping }), { headers: { 'Content-Type': 'application/json' } });
      }
      // The router: hand the request to the local identity server.
      return fetch(identity.url, init);
    };
    try {
      const client = new HfImageEditor({ model: 'test/pix2pix-hosted', token: 'hf_abc', fetch: stub, backoffBaseMs: 1 });
      expect(client.url).toBe('https://router.huggingface.co/hf-inference/models/test/pix2pix-hosted');
      const r = request();
      const out = await client.edit(r);
      expect(maxAbsDiff(out.data, r.image.data)).toBe(0);
      expect(seen.map((s) => s.url)).toEqual([
        'https://huggingface.co/api/models/test/pix2pix-hosted?expand[]=inferenceProviderMapping',
        'https://huggingface.co/api/models/test/pix2pix-hosted?expand[]=inferenceProviderMapping',
        'https://router.huggingface.co/hf-inference/models/test/pix2pix-hosted',
      ]);
      expect(seen[2]!.auth).toBe('Bearer hf_abc');
      expect(seen[2]!.accept).toBe('image/png, image/jpeg');
      const params = identity.requests[0]!.parameters!;
      expect(params.prompt).toBe('turn his teeth gold');
      expect(params.original_image).toBeUndefined();
      expect(params.view).toBeUndefined();
    } finally {
      await identity.close();
    }
  });
});
