/**
 * Rebuilds a report from a saved results JSON, without rerunning the study:
 *
 *     node --import tsx src/study/report/main.ts RESULTS.json OUT_DIR [--no-png]
 *
 * Prints the fixed-width table and the paths written. Exit code 2 on bad usage, 1 on bad input.
 * @module
 */
import { renderReportFromJson } from './write.ts';
import { parseStudyResults } from './schema.ts';
import { renderTable } from './table.ts';
import { readFileSync } from 'node:fs';

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => !a.startsWith('--'));
  const noPng = argv.includes('--no-png');
  if (args.length !== 2 || argv.includes('--help')) {
    process.stderr.write('usage: node --import tsx src/study/report/main.ts RESULTS.json OUT_DIR [--no-png]\n');
    return 2;
  }
  const [file, dir] = args as [string, string];
  try {
    const r = await renderReportFromJson(file, dir, { png: noPng ? false : 'auto' });
    process.stdout.write(renderTable(parseStudyResults(readFileSync(file, 'utf8'), file)));
    process.stdout.write(`report: ${r.html}\ntable: ${r.table}\n`);
    for (const p of r.plots) process.stdout.write(`plot: ${p.svg}${p.png === null ? '' : ` ${p.png}`}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
