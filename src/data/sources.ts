/**
 * "A file or a dataset id": what every command's --corpus / --queries / --qrels accepts. An existing
 * path is read by its detected format; anything else is looked up in the dataset registry.
 * @module
 */
import { existsSync } from 'node:fs';
import { openDataset } from './datasets.ts';
import { loadQueries, readDocs, readQrels } from './formats.ts';
import type { Doc, Qrels } from './types.ts';

export async function* docsFrom(spec: string): AsyncGenerator<Doc> {
  if (existsSync(spec)) yield* readDocs(spec);
  else yield* openDataset(spec).docs();
}

export async function queriesFrom(spec: string): Promise<Map<string, string>> {
  return existsSync(spec) ? loadQueries(spec) : openDataset(spec).queries();
}

export async function qrelsFrom(spec: string): Promise<Qrels> {
  return existsSync(spec) ? readQrels(spec) : openDataset(spec).qrels();
}
