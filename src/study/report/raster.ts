/**
 * SVG → PNG in-process with resvg (a Rust renderer shipped as an npm package with a prebuilt binary
 * per platform), so the report's PNG plots need no browser. Text uses the system fonts (Debian:
 * fonts-dejavu-core, which scripts/setup.sh installs).
 * @module
 */
import { createRequire } from 'node:module';
import { RasterizerUnavailableError } from './chromium.ts';

type ResvgModule = typeof import('@resvg/resvg-js');
let resvg: ResvgModule | null = null;

function load(): ResvgModule {
  if (resvg) return resvg;
  try {
    resvg = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
    return resvg;
  } catch (e) {
    throw new RasterizerUnavailableError(
      `the SVG rasteriser @resvg/resvg-js did not load (${(e as Error).message}); reinstall the npm dependencies (its platform package @resvg/resvg-js-${process.platform}-${process.arch}* must be present)`,
    );
  }
}

/** Renders `svg` as a PNG `width` pixels wide (height from the SVG's aspect ratio), white background. */
export function rasterizeSvg(svg: string, width: number): Buffer {
  const { Resvg } = load();
  const r = new Resvg(svg, { fitTo: { mode: 'width', value: width }, background: '#ffffff', font: { loadSystemFonts: true } });
  return r.render().asPng();
}
