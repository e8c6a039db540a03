// The search page at / in headless Chromium (playwright-core over Debian's chromium): a query shows
// hits with id, score and text, the sparse query's expansion terms, and per hit the matching terms
// highlighted by contribution; the screenshot is checked to be non-blank.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { decodePng, countColors } from '../../src/study/report/png.ts';
import { CHROMIUM_FLAGS, findChromium } from '../../src/study/report/chromium.ts';
import { tmp } from '../index/helpers.ts';
import { post, serve, tinySetup, type SearchReply, type Served } from './helpers.ts';

const dir = tmp('lion-serve-page-');
const profile = mkdtempSync(join(tmpdir(), 'lion-serve-chromium-'));
let s: Served;
let browser: BrowserContext;

/** The few DOM members the page checks read (the tests compile without the DOM library). */
interface El {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}

before(async () => {
  const t = await tinySetup(dir, { docs: 40, queries: 1, dense: false });
  s = await serve(['--index', t.sparse, '--model', t.model, '--corpus', t.corpus, '--threads', '1']);
  // a fresh profile folder (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium() ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport: { width: 1100, height: 900 },
  });
});
after(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  if (s) assert.equal(await s.stop(), 0, s.stderr());
});

test('the page searches, shows hits with id, score and text, expansion terms and highlighted matches', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(s.url + '/');
  assert.equal(await page.title(), 'Lion search');
  assert.match((await page.textContent('#info'))!, /sparse \(40 docs\)/);
  const query = 'white matter development in the newborn brain';
  await page.fill('#q', query);
  await page.click('button[type=submit]');
  await page.waitForSelector('.hit', { timeout: 60_000 });

  // what the API says for the same request, to check the page against
  const api = (await post<SearchReply>(`${s.url}/v1/search`, { query, k: 10, explain: true })).body;
  const ids = await page.$$eval('.hit-id', (els) => els.map((e) => e.textContent));
  assert.deepEqual(ids, api.hits.map((h) => h.id));
  const scores = await page.$$eval('.hit-score', (els) => els.map((e) => Number(e.textContent)));
  scores.forEach((x, i) => assert.ok(Math.abs(x - api.hits[i]!.score) <= 1e-3 * api.hits[i]!.score, `score ${i}`));
  const texts = await page.$$eval('.hit-text', (els) => els.map((e) => e.textContent));
  texts.forEach((x, i) => assert.equal(x, api.hits[i]!.text, `hit ${i} shows its whole text`));

  const expansion = await page.$$eval('#expansion .term', (els) => els.length);
  assert.equal(expansion, Math.min(60, api.query_terms!.length), 'expansion terms shown');
  const perHit = await page.$$eval('.hit', (els) => els.map((e) => e.querySelectorAll('.hit-terms .term').length));
  perHit.forEach((n, i) => assert.equal(n, Math.min(24, api.hits[i]!.match!.terms.length), `hit ${i} matching terms`));

  // highlights: marks inside the texts, each one a matching term of its hit, stronger terms more opaque
  const marks = await page.$$eval('.hit', (els) =>
    (els as unknown as El[]).map((e) =>
      Array.from(e.querySelectorAll('.hit-text mark'), (m) => ({
        text: (m.textContent ?? '').toLowerCase(),
        a: Number(/--a:\s*([\d.]+)/.exec(m.getAttribute('style') ?? '')?.[1]),
        title: m.getAttribute('title') ?? '',
      })),
    ),
  );
  assert.ok(marks.flat().length > 0, 'some matching terms are highlighted');
  marks.forEach((ms, i) => {
    const terms = api.hits[i]!.match!.terms;
    for (const m of ms) {
      const term = terms.find((t) => m.title.startsWith(`${t.token}: `));
      assert.ok(term, `mark '${m.text}' in hit ${i} names a matching term`);
      assert.ok(m.a > 0.25 - 1e-9 && m.a <= 1 + 1e-9);
      assert.ok(Math.abs(m.a - (0.25 + (0.75 * term.contribution) / terms[0]!.contribution)) < 1e-6, 'opacity follows contribution');
    }
  });
  assert.match((await page.textContent('#status'))!, /^10 hits in [\d.]+ ms/);

  const png = await page.screenshot({ fullPage: false });
  const img = decodePng(png);
  assert.equal(img.width, 1100);
  assert.ok(countColors(img, 4096) > 50, 'the screenshot is not blank');
  assert.deepEqual(problems, [], 'no script errors');

  // a bad request shows the server's error instead of hits
  await page.fill('#q', '{"indices": [2, 1], "values": [1, 1]}');
  await page.click('button[type=submit]');
  await page.waitForSelector('#status.error');
  assert.match((await page.textContent('#status'))!, /^vector\.indices\.1: /);
  await page.close();
});
