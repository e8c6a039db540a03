/**
 * BM25 at scale on a synthetic collection (no large real corpus is available offline): N passages of
 * 30-70 tokens drawn from a Zipf(1) vocabulary of 1M terms, roughly MS MARCO passage statistics
 * (avg ~56 tokens). Queries are 3-8 terms from Zipf ranks 100..100k (content words, not stop
 * words). Reports build time, index size, peak RSS and query latency.
 *
 *   node --import tsx bench/bm25-scale.ts [DOCS=1000000] [QUERIES=1000]
 * @module
 */
import { Bm25Builder } from '../src/lexical/bm25.ts';
import { englishAnalyzer } from '../src/lexical/analyzer.ts';
import { rng } from '../src/util/random.ts';

const nDocs = Number(process.argv[2] ?? 1_000_000);
const nQueries = Number(process.argv[3] ?? 1000);
const V = 1_000_000;

const rand = rng(42);
// Inverse-CDF sampling of Zipf(1) over 1..V via the harmonic-number approximation ln(r) + γ.
const H = Math.log(V) + 0.5772;
const zipf = (): number => Math.min(V, Math.max(1, Math.floor(Math.exp(rand() * H - 0.5772))));
const word = (r: number): string => `w${r.toString(36)}`;

const analyzer = englishAnalyzer({ stem: false }); // synthetic words need no stemming
const b = new Bm25Builder({ analyzer });
let t = performance.now();
for (let d = 0; d < nDocs; d++) {
  const n = 30 + Math.floor(rand() * 41);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(word(zipf()));
  b.add({ id: String(d), title: '', text: words.join(' ') });
}
const index = b.finish();
const buildS = (performance.now() - t) / 1000;
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(
  `${nDocs} docs, ${index.terms.length} terms, ${index.postings} postings: built in ${buildS.toFixed(1)} s; peak RSS ${rssMb.toFixed(0)} MB`,
);

const queries: string[] = [];
for (let q = 0; q < nQueries; q++) {
  const n = 3 + Math.floor(rand() * 6);
  const ws: string[] = [];
  while (ws.length < n) {
    const r = zipf();
    if (r >= 100 && r <= 100_000) ws.push(word(r));
  }
  queries.push(ws.join(' '));
}
index.search(queries[0]!, 1000); // warm-up (allocates the accumulator)
const lat: number[] = [];
t = performance.now();
for (const q of queries) {
  const s = performance.now();
  index.search(q, 1000);
  lat.push(performance.now() - s);
}
const total = (performance.now() - t) / 1000;
lat.sort((a, b) => a - b);
const p = (x: number): string => lat[Math.floor(x * (lat.length - 1))]!.toFixed(2);
console.log(
  `${nQueries} queries, k=1000: ${(nQueries / total).toFixed(0)} QPS, latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (1 thread)`,
);
