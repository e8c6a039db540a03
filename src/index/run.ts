/**
 * TREC run files: `qid Q0 docid rank score tag`, one line per hit, queries in the order given.
 * @module
 */
import type { Run } from './types.ts';
import { writeFileAtomic } from './manifest.ts';

/** The run as TREC lines (rank from 1; scores printed with enough digits to round-trip a float32). */
export function formatTrecRun(run: Run, tag = 'lion'): string {
  if (/\s/.test(tag) || !tag) throw new Error(`lion search: run tag '${tag}' must be one word; hint: drop the spaces`);
  const lines: string[] = [];
  for (const [qid, hits] of run) {
    if (/\s/.test(qid))
      throw new Error(`lion search: query id '${qid}' contains whitespace; hint: TREC runs need single-word ids`);
    for (let i = 0; i < hits.length; i++) {
      const h = hits[i]!;
      if (/\s/.test(h.docId))
        throw new Error(`lion search: doc id '${h.docId}' contains whitespace; hint: TREC runs need single-word ids`);
      lines.push(`${qid} Q0 ${h.docId} ${i + 1} ${Number(h.score.toPrecision(9))} ${tag}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Writes a run atomically. */
export function writeTrecRun(path: string, run: Run, tag = 'lion'): void {
  writeFileAtomic(path, formatTrecRun(run, tag));
}
