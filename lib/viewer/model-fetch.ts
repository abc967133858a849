/**
 * The page's side of the wire format: fetches the head model, avatars and JSON from the viewer's server.
 * Uses only `fetch` (browsers and Node ≥ 18), so tests can call it against a running server too.
 */
import type { BoundGaussians } from '../avatar/gaussians.js';
import type { HeadModel } from '../head/model.js';
import { decodeAvatar, decodeHeadModel, type AvatarMeta } from './model-format.js';
import { ROUTES, type AvatarSlot } from './protocol.js';

async function get(url: string): Promise<Response> {
  const r = await fetch(url);
  // The server answers errors as text naming the file that failed; pass that on.
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}: ${(await r.text()).trim()}`);
  return r;
}

export async function fetchBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await get(url)).arrayBuffer());
}

export async function fetchJson<T>(url: string): Promise<T> {
  return (await (await get(url)).json()) as T;
}

export async function fetchHeadModel(base = ''): Promise<HeadModel> {
  const url = base + ROUTES.head;
  return decodeHeadModel(await fetchBytes(url), url);
}

export async function fetchAvatar(slot: AvatarSlot, head: Pick<HeadModel, 'triangleCount'>, base = ''): Promise<{ avatar: BoundGaussians; meta: AvatarMeta }> {
  const url = base + ROUTES.avatar(slot);
  return decodeAvatar(await fetchBytes(url), url, head.triangleCount);
}
