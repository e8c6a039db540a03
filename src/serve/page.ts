/**
 * The web page at `/`: a search box over the server's API, hits with id, score and text, and for
 * sparse indexes the query's expansion terms and each hit's matching terms, highlighted in the text
 * by their share of the score. One self-contained document (no external assets); every text from
 * the server is inserted with textContent, never as HTML.
 * @module
 */

const CSS = `
:root { font-family: system-ui, sans-serif; color: #1d2430; background: #f7f8fa; }
body { max-width: 960px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
#info { color: #5b6472; font-size: .9rem; margin-bottom: 1rem; }
form { display: flex; gap: .5rem; margin-bottom: 1rem; }
#q { flex: 1; font-size: 1.05rem; padding: .55rem .7rem; border: 1px solid #b9c0cc; border-radius: 6px; }
button { font-size: 1rem; padding: .5rem 1.1rem; border: 0; border-radius: 6px; background: #2f5fd0; color: #fff; cursor: pointer; }
select, #k { font-size: 1rem; padding: .4rem; border-radius: 6px; border: 1px solid #b9c0cc; }
#k { width: 4.5rem; }
#status { color: #5b6472; min-height: 1.3em; margin-bottom: .5rem; }
#status.error { color: #b3261e; font-weight: 600; }
h2 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
.terms { display: flex; flex-wrap: wrap; gap: .3rem; }
.term { font: .85rem ui-monospace, monospace; padding: .12rem .4rem; border-radius: 4px; background: rgba(47, 95, 208, var(--a)); color: #0d1b3d; }
.hit { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: .7rem .9rem; margin-bottom: .6rem; }
.hit-head { display: flex; justify-content: space-between; font-weight: 600; }
.hit-id { font-family: ui-monospace, monospace; }
.hit-score { color: #2f5fd0; font-variant-numeric: tabular-nums; }
.hit-text { margin: .4rem 0; line-height: 1.45; }
mark { background: rgba(255, 166, 0, var(--a)); border-radius: 3px; padding: 0 1px; }
.hit-terms .term { background: rgba(255, 166, 0, var(--a)); }
`;

// Runs in the browser. Kept as plain JavaScript in a string so the page needs no build step.
const SCRIPT = `
const info = JSON.parse(document.getElementById('server-info').textContent);
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const idx = Object.keys(info.indexes);
$('info').textContent = 'indexes: ' + idx.map((p) => p + ' (' + info.indexes[p].docs + ' docs)').join(', ') +
  (info.model ? ' · model: ' + info.model : ' · no model: type a JSON vector, e.g. {"indices": [..], "values": [..]}');
const sel = $('index');
for (const p of (idx.length === 2 ? ['hybrid', ...idx] : idx)) sel.append(new Option(p, p));
if (idx.length < 2) sel.hidden = true;
// a byte-level or SentencePiece token as the words it stands for
const display = (t) => t.replace(/^[\\u0120\\u2581]/, '').replace(/\\u0120/g, ' ');
const fmt = (x) => Number(x).toPrecision(4);

function chip(text, share, title) {
  const c = el('span', 'term', text);
  c.style.setProperty('--a', String(0.15 + 0.85 * share));
  if (title) c.title = title;
  return c;
}

// Marks word-initial occurrences of the matching terms in the text, strongest term first, no overlaps.
function highlight(node, text, terms) {
  const lower = text.toLowerCase();
  const taken = new Uint8Array(text.length);
  const spans = [];
  const top = terms.length ? terms[0].contribution : 1;
  for (const t of terms) {
    const w = display(t.token).trim().toLowerCase();
    if (w.length < 2 && !/[0-9]/.test(w)) continue;
    for (let at = lower.indexOf(w); at >= 0; at = lower.indexOf(w, at + 1)) {
      if (at > 0 && /[\\p{L}\\p{N}]/u.test(lower[at - 1])) continue;
      if (taken.subarray(at, at + w.length).some((x) => x)) continue;
      taken.fill(1, at, at + w.length);
      spans.push({ at, end: at + w.length, share: t.contribution / top, title: t.token + ': ' + fmt(t.contribution) });
    }
  }
  spans.sort((a, b) => a.at - b.at);
  let pos = 0;
  for (const s of spans) {
    node.append(text.slice(pos, s.at));
    const m = el('mark', '', text.slice(s.at, s.end));
    m.style.setProperty('--a', String(0.25 + 0.75 * s.share));
    m.title = s.title;
    node.append(m);
    pos = s.end;
  }
  node.append(text.slice(pos));
}

function render(r) {
  const out = $('results');
  out.replaceChildren();
  if (r.query_terms && r.query_terms.length) {
    out.append(el('h2', '', 'Query terms (' + r.query_terms.length + ')'));
    const box = el('div', 'terms');
    box.id = 'expansion';
    const max = r.query_terms[0].weight || 1;
    for (const t of r.query_terms.slice(0, 60)) box.append(chip(display(t.token) + ' ' + fmt(t.weight), t.weight / max, t.token));
    out.append(box);
  }
  out.append(el('h2', '', r.hits.length + ' hits'));
  const list = el('div', '');
  list.id = 'hits';
  for (const h of r.hits) {
    const card = el('div', 'hit');
    const head = el('div', 'hit-head');
    head.append(el('span', 'hit-id', h.id), el('span', 'hit-score', fmt(h.score)));
    card.append(head);
    const body = el('div', 'hit-text');
    const terms = h.match ? h.match.terms : [];
    if (h.text !== undefined) highlight(body, h.text, terms);
    card.append(body);
    if (terms.length) {
      const box = el('div', 'terms hit-terms');
      const top = terms[0].contribution || 1;
      for (const t of terms.slice(0, 24))
        box.append(chip(display(t.token) + ' ' + fmt(t.contribution), t.contribution / top,
          'query ' + fmt(t.query_weight) + ' × doc ' + fmt(t.doc_weight)));
      card.append(box);
    }
    list.append(card);
  }
  out.append(list);
}

$('form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = $('q').value.trim();
  if (!q) return;
  const status = $('status');
  status.className = '';
  status.textContent = 'searching…';
  const body = { k: Number($('k').value) || 10, explain: true };
  if (!sel.hidden) body.index = sel.value;
  if (q.startsWith('{') || q.startsWith('[')) {
    try { body.vector = JSON.parse(q); } catch (e) { status.className = 'error'; status.textContent = 'not JSON: ' + e.message; return; }
  } else body.query = q;
  try {
    const res = await fetch('/v1/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await res.json();
    if (!res.ok) { status.className = 'error'; status.textContent = r.error; return; }
    status.textContent = r.hits.length + ' hits in ' + r.took_ms + ' ms' + (r.warning ? ' · ' + r.warning : '');
    render(r);
  } catch (e) {
    status.className = 'error';
    status.textContent = String(e);
  }
});
`;

/** The page, with the server's /healthz description embedded (indexes, model, limits). */
export function pageHtml(info: Record<string, unknown>): string {
  const json = JSON.stringify(info).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lion search</title>
<style>${CSS}</style>
</head>
<body>
<h1>Lion search</h1>
<div id="info"></div>
<form id="form">
  <input id="q" type="search" placeholder="Ask a question" autocomplete="off" autofocus>
  <select id="index" aria-label="index"></select>
  <input id="k" type="number" min="1" value="10" aria-label="hits">
  <button type="submit">Search</button>
</form>
<div id="status"></div>
<div id="results"></div>
<script type="application/json" id="server-info">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
