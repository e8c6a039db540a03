/**
 * `lion export`: writes an index's documents as bulk files for OpenSearch, Elasticsearch or Qdrant.
 * @module
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { positiveInt } from '../flags.ts';
import { openIndex } from '../../index/search.ts';
import { exportIndex, engineMapping, EXPORT_FORMATS, type ExportFormat } from '../../index/export.ts';
import { readTokenizerInfo } from '../../index/tokens.ts';
import { writeBytesAtomic } from '../../formats/file-io.ts';

export interface ExportFlags {
  index: string;
  format: ExportFormat;
  output: string;
  tokenizer?: string;
  indexName: string;
  field?: string;
  batchSize: string;
  mapping?: string;
}

export async function runExport(f: ExportFlags, warn: (m: string) => void = (m) => console.error(m)): Promise<number> {
  const index = openIndex(f.index);
  let tokens: (string | undefined)[] | undefined;
  if (index.manifest.paradigm === 'sparse' && f.format !== 'qdrant') {
    const recorded = index.manifest.identity.tokenizerFile;
    const path = f.tokenizer ?? (recorded && existsSync(recorded) ? recorded : undefined);
    if (path) {
      const t = readTokenizerInfo(path);
      const want = index.manifest.identity.tokenizerHash;
      if (f.tokenizer && want && t.identity.tokenizerHash !== want)
        warn(
          `lion export: tokenizer '${f.tokenizer}' is not the one recorded in the index (sha256 differs); token strings may not match the term ids`,
        );
      tokens = t.tokens;
    } else if (recorded) {
      warn(`lion export: the tokenizer recorded in the index ('${recorded}') is not on this machine`);
    }
  }
  const n = await exportIndex(index, f.output, {
    format: f.format,
    indexName: f.indexName,
    field: f.field,
    tokens,
    batchSize: positiveInt('export', '--batch-size', f.batchSize),
    warn,
  });
  if (f.mapping)
    writeBytesAtomic(
      f.mapping,
      JSON.stringify(engineMapping(index, { format: f.format, field: f.field }), null, 2) + '\n',
    );
  return n;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write an index as bulk files for OpenSearch, Elasticsearch or Qdrant')
    .requiredOption('--index <dir>', 'index folder from lion index')
    .addOption(new Option('--format <f>', 'target engine').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption(
      '--output <file>',
      'NDJSON bulk file (OpenSearch / Elasticsearch) or JSONL of upsert bodies (Qdrant); - for stdout',
    )
    .option('--tokenizer <file>', 'sparse: tokenizer.json for token strings (default: the one recorded in the index)')
    .option('--index-name <name>', 'OpenSearch / Elasticsearch index name in the bulk action lines', 'lion')
    .option(
      '--field <name>',
      'field (or Qdrant vector name) holding the vector (default: sparse_embedding / embedding)',
    )
    .option('--batch-size <n>', 'Qdrant: points per upsert body', '256')
    .option('--mapping <file>', 'also write the index / collection creation body for the engine')
    .action(async (f: ExportFlags) => {
      const n = await runExport(f);
      console.error(`exported ${n} documents as ${f.format} -> ${f.output}`);
    });
}
