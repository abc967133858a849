/**
 * One strict way to read every config (reconstruction, edit, grid params, `--config` files): layers merge key
 * by key, and a key the schema does not know is an error naming it and its closest known neighbour. zod's
 * plain objects drop unknown keys silently, so a typo (`itterations`, `editr`) would quietly run the default;
 * we walk the schema instead of marking every object strict, so schema files stay as their owners write them.
 * Keys starting with `$` (`$comment`) are notes for readers and are allowed anywhere.
 */
import { promises as fs } from 'node:fs';
import type { z } from 'zod';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge of config layers, later layers winning. Objects merge key by key at every depth (an overlay
 * `{ lr: { shDc: 1 } }` keeps the other rates); arrays and scalars replace; `undefined` values are skipped.
 */
export function mergeConfig(...layers: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!isPlainObject(layer)) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = isPlainObject(v) ? mergeConfig(isPlainObject(out[k]) ? out[k] : {}, v) : v;
    }
  }
  return out;
}

/** Levenshtein distance (keys are short; the quadratic table is fine). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known keys closest to `key` (all those at the smallest distance), if close enough to be a plausible typo. */
export function closestKeys(key: string, known: readonly string[]): string[] {
  const d = known.map((k) => ({ k, d: distance(key, k) })).filter(({ k, d }) => d <= Math.max(2, Math.floor(k.length / 3)));
  const best = Math.min(...d.map((x) => x.d));
  return d.filter((x) => x.d === best).map((x) => x.k);
}

export interface UnknownKey {
  /** Dotted path of the key, e.g. `lr.shDC`. */
  path: string;
  key: string;
  /** The closest known keys (empty when none is close). */
  suggestions: string[];
  known: string[];
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;
const join = (p: string, k: string | number) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${k}` : k);

/** Keys of `value` that `schema` does not declare, at any depth (loose objects and records accept any key). */
export function unknownKeys(schema: unknown, value: unknown, at = ''): UnknownKey[] {
  const d = defOf(schema);
  switch (d.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return value === undefined || value === null ? [] : unknownKeys(d.innerType, value, at);
    case 'pipe':
      return unknownKeys(d.in, value, at);
    case 'lazy':
      return unknownKeys((d.getter as () => unknown)(), value, at);
    case 'object': {
      if (!isPlainObject(value)) return [];
      const shape = d.shape as Record<string, unknown>;
      const catchall = d.catchall ? defOf(d.catchall).type : 'never';
      const out: UnknownKey[] = [];
      const known = Object.keys(shape);
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('$')) continue; // `$comment` and the like: notes for readers, as in JSON Schema
        if (k in shape) out.push(...unknownKeys(shape[k], v, join(at, k)));
        else if (catchall === 'never') {
          out.push({ path: join(at, k), key: k, known, suggestions: closestKeys(k, known) });
        }
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => unknownKeys(d.element, v, join(at, i))) : [];
    case 'tuple':
      return Array.isArray(value) ? value.flatMap((v, i) => ((d.items as unknown[])[i] ? unknownKeys((d.items as unknown[])[i], v, join(at, i)) : [])) : [];
    case 'record':
      return isPlainObject(value) ? Object.entries(value).flatMap(([k, v]) => unknownKeys(d.valueType, v, join(at, k))) : [];
    case 'union': {
      // The option that fits best: fewest unknown keys among the object options.
      let best: UnknownKey[] | null = null;
      for (const o of d.options as unknown[]) {
        const t = defOf(o).type;
        if (isPlainObject(value) !== (t === 'object' || t === 'default' || t === 'prefault' || t === 'optional' || t === 'nullable')) continue;
        const u = unknownKeys(o, value, at);
        if (best === null || u.length < best.length) best = u;
      }
      return best ?? [];
    }
    default:
      return [];
  }
}

/** `lr.shDC: unknown key (did you mean 'shDc'?)`. */
export function describeUnknownKey(u: UnknownKey): string {
  const s = u.suggestions.map((k) => `'${k}'`);
  return `${u.path}: unknown key${s.length ? ` (did you mean ${s.join(' or ')}?)` : ` (known: ${u.known.join(', ')})`}`;
}

/** `frames[3].fx` from zod's issue path. */
export function formatIssuePath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(root)';
}

/**
 * Parses a config: unknown keys first (they explain most failures), then the schema. Throws
 * `<where>: <field>: <message>`; `where` names the file (or the command) the values came from.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const unknown = unknownKeys(schema, input).sort((a, b) => (a.path < b.path ? -1 : 1));
  if (unknown.length > 0) throw new Error(`${where}: ${unknown.map(describeUnknownKey).join('; ')}`);
  const r = schema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${where}: ${formatIssuePath(i.path)}: ${i.message}`);
  }
  return r.data as z.output<S>;
}

/** A JSON config file as an object; errors name the file (missing, unreadable, not JSON, not an object). */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isPlainObject(v)) throw new Error(`${file}: expected a JSON object of config fields`);
  return v;
}
