/**
 * MS MARCO passage files: the collection (`pid<TAB>text`, exactly two fields per line, as the
 * authors' loader requires), query TSVs and TREC-style qrels (read with trec.ts).
 * @module
 */
import { readLines, writeTextAtomic } from './lines.ts';
import { tsvFields } from './parse.ts';
import type { Doc } from './types.ts';

/** Streams the passages of an MS MARCO collection TSV (`.gz` too); passages have no title. */
export async function* readMsmarcoCollection(path: string): AsyncGenerator<Doc> {
  for await (const { text, lineNo } of readLines(path)) {
    if (text === '') continue;
    const [id, body] = tsvFields(text, 2, path, lineNo, 'pid, passage text') as [string, string];
    yield { id, text: body };
  }
}

/** Writes a collection TSV atomically; tabs and newlines inside texts become spaces. */
export async function writeMsmarcoCollection(path: string, docs: Iterable<Doc> | AsyncIterable<Doc>): Promise<void> {
  await writeTextAtomic(
    path,
    (async function* () {
      for await (const d of docs) {
        const body = (d.title ? `${d.title} ${d.text}` : d.text).replace(/[\t\r\n]+/g, ' ');
        yield `${d.id}\t${body}\n`;
      }
    })(),
  );
}
