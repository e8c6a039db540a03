/**
 * Takes a full-page screenshot of a study report in headless Chromium:
 *
 *     node --import tsx scripts/screenshot-report.ts REPORT.html OUT.png [--width 1280]
 *
 * Needs Chromium (Debian package `chromium`, or $LION_CHROMIUM). Prints the PNG's size and
 * dimensions; exits 1 when Chromium is missing or the page fails to render.
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeBytesAtomic } from '../src/formats/file-io.ts';
import { pngInfo } from '../src/study/report/png.ts';
import { screenshotHtml } from '../src/study/report/chromium.ts';

async function main(argv: string[]): Promise<number> {
  const wi = argv.indexOf('--width');
  const width = wi >= 0 ? Number(argv[wi + 1]) : 1280;
  const args = argv.filter((a, i) => !a.startsWith('--') && !(wi >= 0 && i === wi + 1));
  if (args.length !== 2 || !Number.isInteger(width) || width < 200) {
    process.stderr.write('usage: node --import tsx scripts/screenshot-report.ts REPORT.html OUT.png [--width 1280]\n');
    return 2;
  }
  const [html, out] = args.map((a) => resolve(a)) as [string, string];
  if (!existsSync(html)) {
    process.stderr.write(
      `screenshot-report: report not found '${html}'; hint: write one with writeReport or src/study/report/main.ts\n`,
    );
    return 1;
  }
  try {
    const png = await screenshotHtml(html, { width });
    writeBytesAtomic(out, png);
    const info = pngInfo(png);
    process.stdout.write(`${out}: ${info.width}x${info.height} px, ${png.length} bytes\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`screenshot-report: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
