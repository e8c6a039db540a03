/**
 * Request bodies of the HTTP API, validated with zod at the edge: typed values out, or an HttpError
 * whose message names the offending field (`k: …`, `vector.indices.3: …`).
 * @module
 */
import { z } from 'zod';
import type { SparseVector } from '../index/types.ts';

/** An error with the HTTP status it answers with; its message is the body's `error`. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 415 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface Limits {
  /** Largest `k` a request may ask for. */
  maxK: number;
  /** Most texts one encode request may carry. */
  maxTexts: number;
}

const k = (maxK: number) =>
  z
    .number({ error: `must be an integer in [1, ${maxK}]` })
    .int({ error: `must be an integer in [1, ${maxK}]` })
    .min(1, { error: `must be an integer in [1, ${maxK}]` })
    .max(maxK, { error: `must be at most ${maxK} (this server's --max-k)` });

const query = z
  .string({ error: 'must be a string' })
  .refine((s) => s.trim() !== '', { error: 'must not be empty' });

const sparseSchema = z.strictObject({
  indices: z.array(z.number({ error: 'must be a number' }).int({ error: 'must be an integer term id' }).min(0, { error: 'must be a term id ≥ 0' }).max(0xffffffff), { error: 'must be an array of term ids' }),
  values: z.array(z.number({ error: 'must be a number' }).min(0, { error: 'must be a weight ≥ 0' }), { error: 'must be an array of weights' }),
});
const denseSchema = z.array(z.number({ error: 'must be a number' }), { error: 'must be an array of numbers' });
const bothSchema = z.strictObject({ sparse: sparseSchema.optional(), dense: denseSchema.optional() });

/** A query vector as sent: sparse, dense, or one of each (hybrid). */
export interface QueryVectors {
  sparse?: SparseVector;
  dense?: Float32Array;
}

const searchSchema = (l: Limits) =>
  z.strictObject({
    query: query.optional(),
    vector: z.unknown().optional(),
    k: k(l.maxK).default(10),
    index: z.enum(['sparse', 'dense', 'hybrid'], { error: "must be 'sparse', 'dense' or 'hybrid'" }).optional(),
    explain: z.boolean({ error: 'must be true or false' }).default(false),
  });

const explainSchema = z.strictObject({
  query: query.optional(),
  vector: z.unknown().optional(),
  id: z.string({ error: 'must be a document id (string)' }).min(1, { error: 'must not be empty' }),
  index: z.enum(['sparse', 'dense'], { error: "must be 'sparse' or 'dense'" }).optional(),
});

const encodeSchema = (l: Limits) =>
  z.strictObject({
    texts: z
      .array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' })
      .min(1, { error: 'must hold at least one text' })
      .max(l.maxTexts, { error: `must hold at most ${l.maxTexts} texts` }),
    kind: z.enum(['query', 'doc'], { error: "must be 'query' or 'doc'" }),
    paradigm: z.enum(['sparse', 'dense'], { error: "must be 'sparse' or 'dense'" }).optional(),
  });

export type SearchBody = Omit<z.infer<ReturnType<typeof searchSchema>>, 'vector'> & { vector?: QueryVectors };
export type ExplainBody = Omit<z.infer<typeof explainSchema>, 'vector'> & { vector?: QueryVectors };
export type EncodeBody = z.infer<ReturnType<typeof encodeSchema>>;

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, prefix = ''): T {
  if (!prefix && (body === null || typeof body !== 'object' || Array.isArray(body)))
    throw new HttpError(400, 'body: expected a JSON object');
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((x) => `'${x}'`).join(', ')}`;
  else if (issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined) message = 'is required';
  throw new HttpError(400, `${path || 'body'}: ${message}`);
}

/** Tells the three shapes apart, then validates the one it is (so messages name the right fields). */
export function parseVector(v: unknown): QueryVectors {
  if (Array.isArray(v)) return { dense: Float32Array.from(parse(denseSchema, v, 'vector')) };
  if (v !== null && typeof v === 'object' && ('indices' in v || 'values' in v)) {
    const s = parse(sparseSchema, v, 'vector');
    return { sparse: { indices: Uint32Array.from(s.indices), values: Float32Array.from(s.values) } };
  }
  if (v !== null && typeof v === 'object' && ('sparse' in v || 'dense' in v)) {
    const b = parse(bothSchema, v, 'vector');
    return {
      sparse: b.sparse && { indices: Uint32Array.from(b.sparse.indices), values: Float32Array.from(b.sparse.values) },
      dense: b.dense && Float32Array.from(b.dense),
    };
  }
  throw new HttpError(
    400,
    'vector: expected {"indices": [...], "values": [...]} (sparse), an array of numbers (dense), or {"sparse": …, "dense": …}',
  );
}

function withVector<T extends { query?: string; vector?: unknown }>(b: T): Omit<T, 'vector'> & { vector?: QueryVectors } {
  if ((b.query === undefined) === (b.vector === undefined))
    throw new HttpError(400, `query: give exactly one of "query" (text) or "vector"${b.query !== undefined ? ', not both' : ''}`);
  return { ...b, vector: b.vector === undefined ? undefined : parseVector(b.vector) };
}

export function parseSearch(body: unknown, l: Limits): SearchBody {
  return withVector(parse(searchSchema(l), body));
}

export function parseExplain(body: unknown): ExplainBody {
  return withVector(parse(explainSchema, body));
}

export function parseEncode(body: unknown, l: Limits): EncodeBody {
  return parse(encodeSchema(l), body);
}
