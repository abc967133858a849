/**
 * The ablation grid's config (experiments/*.json): methods × subjects × edits × seeds, each cell evaluated on
 * the listed tasks. zod-typed; a bad file fails with its path and the field.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Names that become path components of run directories. */
const Slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'use letters, digits and . _ + - (it names a directory)');
const Params = z.record(z.string(), z.unknown());

export const TASKS = ['novel-view', 'self-reenactment', 'cross-identity'] as const;
export type Task = (typeof TASKS)[number];

const MethodSpec = z.union([
  Slug,
  z.strictObject({
    name: Slug,
    /** Registered CellRunner; default: the method's name. */
    runner: z.string().optional(),
    params: Params.optional(),
  }),
]);

const EditSpec = z.union([
  Slug,
  z.strictObject({
    id: Slug,
    /** The instruction given to the 2D editor ("turn his face green"). */
    instruction: z.string().optional(),
    /** Captions for CLIP-S: the edited and the original subject. */
    caption: z.string().optional(),
    originalCaption: z.string().optional(),
    params: Params.optional(),
  }),
]);

export const GridConfigSchema = z.strictObject({
  /** Grid name: results go to <outDir>/<name>/. */
  name: Slug,
  description: z.string().optional(),
  methods: z.array(MethodSpec).min(1),
  subjects: z.array(Slug).min(1),
  edits: z.array(EditSpec).min(1),
  seeds: z.array(z.number().int().nonnegative()).min(1),
  tasks: z
    .array(z.enum(TASKS))
    .min(1)
    .default([...TASKS]),
  /** Parameters every cell gets (method and edit params override them). */
  params: Params.default({}),
  outDir: z.string().default('results/runs'),
  /** Cells run at once (in this process). 1 on a single GPU. */
  concurrency: z.number().int().min(1).default(1),
});
export type GridConfigInput = z.input<typeof GridConfigSchema>;
export type GridConfig = z.output<typeof GridConfigSchema>;

export interface MethodDef {
  name: string;
  runner: string;
  params: Record<string, unknown>;
}
export interface EditDef {
  id: string;
  instruction?: string;
  caption?: string;
  originalCaption?: string;
  params: Record<string, unknown>;
}

export const methodDef = (m: GridConfig['methods'][number]): MethodDef =>
  typeof m === 'string' ? { name: m, runner: m, params: {} } : { name: m.name, runner: m.runner ?? m.name, params: m.params ?? {} };
export const editDef = (e: GridConfig['edits'][number]): EditDef => (typeof e === 'string' ? { id: e, params: {} } : { ...e, params: e.params ?? {} });

function formatIssues(err: z.ZodError, where: string): string {
  return err.issues.map((i) => `${where}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}

/** Validates a config object; `where` names it in errors (a file path). */
export function parseGridConfig(value: unknown, where = '<config>'): GridConfig {
  const r = GridConfigSchema.safeParse(value);
  if (!r.success) throw new Error(formatIssues(r.error, where));
  const cfg = r.data;
  const dup = (xs: string[], what: string) => {
    const seen = new Set<string>();
    for (const x of xs) {
      if (seen.has(x)) throw new Error(`${where}: ${what}: '${x}' appears twice`);
      seen.add(x);
    }
  };
  dup(
    cfg.methods.map((m) => methodDef(m).name),
    'methods',
  );
  dup(cfg.subjects, 'subjects');
  dup(
    cfg.edits.map((e) => editDef(e).id),
    'edits',
  );
  dup(cfg.seeds.map(String), 'seeds');
  return cfg;
}

export function loadGridConfig(file: string): GridConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parseGridConfig(json, file);
}

/** Stable JSON (sorted keys) and its short hash: a cell's identity beyond its path. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const hashOf = (v: unknown) => createHash('sha256').update(stableStringify(v)).digest('hex').slice(0, 16);
