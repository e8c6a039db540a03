/**
 * Exports an index's documents as bulk files that search engines ingest, for collections that
 * outgrow one machine:
 *
 * - `opensearch`: `_bulk` NDJSON; sparse as a `rank_features` field of `{token: weight}` (what
 *   OpenSearch neural sparse search uses), dense as a `knn_vector` field.
 * - `elasticsearch`: `_bulk` NDJSON; sparse as a `sparse_vector` field of `{token: weight}`, dense
 *   as a `dense_vector` field.
 * - `qdrant`: one JSON body per line for `PUT /collections/{name}/points`, each holding up to
 *   `batchSize` points; sparse as `{indices, values}` (term ids, no strings needed), dense as a list.
 *
 * Token keys: both engines read a `.` inside a field name as an object path, so a `.` in a token
 * string is written as U+2024 (ONE DOT LEADER); apply `engineTokenKey` to query tokens the same way.
 * @module
 */
import { openTextOutput } from '../data/lines.ts';
import type { AnyIndex } from './search.ts';
import { SparseIndex } from './sparse/index.ts';
import type { DenseIndex } from './dense/index.ts';

export const EXPORT_FORMATS = ['opensearch', 'elasticsearch', 'qdrant'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** Target index (OpenSearch / Elasticsearch) name for `_bulk` action lines; default 'lion'. */
  indexName?: string;
  /** Field holding the vector; default 'sparse_embedding' or 'embedding'. */
  field?: string;
  /** Term id → token string, for sparse exports to OpenSearch / Elasticsearch. */
  tokens?: readonly (string | undefined)[];
  /** Points per line for Qdrant; default 256. */
  batchSize?: number;
  /** Called with warnings (e.g. missing token strings). */
  warn?: (message: string) => void;
}

/** The key a token string gets in an exported `{token: weight}` map. */
export function engineTokenKey(token: string): string {
  return token.replaceAll('.', '\u2024');
}

/** Weights keep 7 significant digits (engines store fewer: Elasticsearch keeps 9 bits). */
function w(x: number): number {
  return Number(x.toPrecision(7));
}

/** Writes the export to `path` atomically; returns the number of documents written. */
export async function exportIndex(index: AnyIndex, path: string, opts: ExportOptions): Promise<number> {
  if (!EXPORT_FORMATS.includes(opts.format))
    throw new Error(`lion export: unknown format '${String(opts.format)}'; hint: one of ${EXPORT_FORMATS.join(', ')}`);
  // An atomic temp file renamed into place (removed on failure or a signal), or stdout for `-`.
  const out = await openTextOutput(path);
  let pending = '';
  const write = async (s: string): Promise<void> => {
    pending += s;
    if (pending.length > 1 << 20) {
      await out.write(pending);
      pending = '';
    }
  };
  let n = 0;
  try {
    const sparse = index instanceof SparseIndex;
    const field = opts.field ?? (sparse ? 'sparse_embedding' : 'embedding');
    const name = opts.indexName ?? 'lion';
    let keys: string[] | null = null;
    if (sparse && opts.format !== 'qdrant') {
      const V = index.data.V;
      let missing = 0;
      keys = Array.from({ length: V }, (_, t) => {
        const tok = opts.tokens?.[t];
        if (tok === undefined) missing++;
        return engineTokenKey(tok ?? String(t));
      });
      if (!opts.tokens)
        opts.warn?.(
          `lion export: no tokenizer given or recorded; writing term ids as token strings; hint: pass --tokenizer tokenizer.json`,
        );
      else if (missing > 0)
        opts.warn?.(
          `lion export: the tokenizer has no string for ${missing} of ${V} term ids; those are written as ids`,
        );
      if (new Set(keys).size !== keys.length)
        opts.warn?.('lion export: some token keys coincide after escaping; their weights would merge in the engine');
    }
    const batch: string[] = [];
    const flushQdrant = async (): Promise<void> => {
      if (batch.length) await write(`{"points":[${batch.join(',')}]}\n`);
      batch.length = 0;
    };
    const emit = async (doc: number, docId: string, body: string, qdrantVector: string): Promise<void> => {
      if (opts.format === 'qdrant') {
        batch.push(
          `{"id":${doc},"vector":{${JSON.stringify(field)}:${qdrantVector}},"payload":{"doc_id":${JSON.stringify(docId)}}}`,
        );
        if (batch.length >= (opts.batchSize ?? 256)) await flushQdrant();
      } else {
        await write(
          `{"index":{"_index":${JSON.stringify(name)},"_id":${JSON.stringify(docId)}}}\n{"doc_id":${JSON.stringify(docId)},${JSON.stringify(field)}:${body}}\n`,
        );
      }
      n++;
    };
    if (sparse) {
      for (const [doc, v] of index.documents()) {
        let body = '';
        let qv = '';
        if (keys) {
          const parts: string[] = [];
          for (let i = 0; i < v.indices.length; i++)
            parts.push(`${JSON.stringify(keys[v.indices[i]!])}:${w(v.values[i]!)}`);
          body = `{${parts.join(',')}}`;
        } else {
          qv = `{"indices":[${Array.from(v.indices).join(',')}],"values":[${Array.from(v.values, w).join(',')}]}`;
        }
        await emit(doc, index.docIds[doc]!, body, qv);
      }
    } else {
      const di = index as DenseIndex;
      const B = 4096;
      for (let s = 0; s < di.N; s += B) {
        const e = Math.min(di.N, s + B);
        const rows = di.rows(s, e);
        for (let r = s; r < e; r++) {
          const list = `[${Array.from(rows.subarray((r - s) * di.dim, (r - s + 1) * di.dim), w).join(',')}]`;
          await emit(r, di.docIds[r]!, list, list);
        }
      }
    }
    await flushQdrant();
    await out.write(pending);
    await out.close();
  } catch (e) {
    await out.abort();
    throw e;
  }
  return n;
}

/** An index-creation body for the target engine (what `docs/index.md` shows), for convenience. */
export function engineMapping(index: AnyIndex, opts: Pick<ExportOptions, 'format' | 'field'>): unknown {
  const sparse = index instanceof SparseIndex;
  const field = opts.field ?? (sparse ? 'sparse_embedding' : 'embedding');
  const dim = sparse ? 0 : (index as DenseIndex).dim;
  if (opts.format === 'qdrant')
    return sparse ? { sparse_vectors: { [field]: {} } } : { vectors: { [field]: { size: dim, distance: 'Dot' } } };
  if (opts.format === 'opensearch')
    return sparse
      ? { mappings: { properties: { doc_id: { type: 'keyword' }, [field]: { type: 'rank_features' } } } }
      : {
          settings: { index: { knn: true } },
          mappings: {
            properties: {
              doc_id: { type: 'keyword' },
              [field]: { type: 'knn_vector', dimension: dim, space_type: 'innerproduct' },
            },
          },
        };
  return sparse
    ? { mappings: { properties: { doc_id: { type: 'keyword' }, [field]: { type: 'sparse_vector' } } } }
    : {
        mappings: {
          properties: {
            doc_id: { type: 'keyword' },
            [field]: { type: 'dense_vector', dims: dim, index: true, similarity: 'max_inner_product' },
          },
        },
      };
}
