/**
 * Tiny helpers for writing SVG by hand: escaping, fixed-precision coordinates (so the same input
 * always gives the same bytes), element builders, and "nice" axis ticks.
 * @module
 */

/** Escapes text and attribute values for XML. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with at most two decimals, no trailing zeros, and never `-0`. */
export function num(v: number): string {
  const s = (Math.round(v * 100) / 100).toFixed(2).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : xmlEscape(v)}"`)
    .join('');
}

/** `<name attrs/>` or `<name attrs>children</name>`; children are already-escaped markup. */
export function el(name: string, a: Attrs, children?: string): string {
  return children === undefined || children === ''
    ? `<${name}${attrs(a)}/>`
    : `<${name}${attrs(a)}>${children}</${name}>`;
}

/** A text element with escaped content. */
export function text(a: Attrs, content: string): string {
  return el('text', a, xmlEscape(content));
}

/**
 * Linear ticks with a 1 / 2 / 2.5 / 5 × 10^k step, about `target` of them, covering [lo, hi].
 * Returns the ticks and the number of decimals their step needs.
 */
export function niceTicks(lo: number, hi: number, target = 6): { ticks: number[]; decimals: number } {
  if (!(hi > lo)) return { ticks: [lo], decimals: Math.max(0, 2 - Math.floor(Math.log10(Math.abs(lo) || 1))) };
  const raw = (hi - lo) / Math.max(1, target - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / mag === 2.5 ? 1 : 0));
  const ticks: number[] = [];
  // integer multiples of the step, so ticks are exact decimals rather than accumulated sums
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toFixed(decimals)));
  return { ticks, decimals };
}
