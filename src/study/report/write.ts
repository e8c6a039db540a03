/**
 * Writes a report folder from a {@link StudyResults}:
 *
 * ```
 * DIR/report.html        self-contained report (findings, table, inline SVG plots, config, hardware)
 * DIR/table.md           the Markdown table (for bench/RESULTS.md)
 * DIR/table.txt          the fixed-width table (what the terminal shows)
 * DIR/findings.md        the findings as plain paragraphs
 * DIR/plots/<id>.svg     one figure per eval set (+ out-of-domain mean)
 * DIR/plots/<id>.png     the same, rasterized in-process (resvg)
 * ```
 *
 * Every file is written atomically (temp + rename), so a crash never leaves a half-written report.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeBytesAtomic } from '../../formats/file-io.ts';
import { rasterizeSvg } from './raster.ts';
import { renderFindingsText } from './findings.ts';
import { renderHtml } from './html.ts';
import { renderPlots } from './plot.ts';
import { parseStudyResults } from './schema.ts';
import { renderMarkdownTable, renderTable } from './table.ts';
import type { StudyResults } from './types.ts';

export interface WriteReportOptions {
  /** PNG versions of the plots: 'auto' (default) skips with a note if the rasteriser fails; false skips; true fails. */
  png?: boolean | 'auto';
  /** PNG width in px (default 1280, twice the SVG's 640 for sharp text). */
  pngWidth?: number;
  /** Where notes go (default: stderr, prefixed `lion study:`). */
  log?: (line: string) => void;
}

export interface WrittenPlot {
  id: string;
  title: string;
  svg: string;
  /** Null when PNGs were skipped or failed (see `notes`). */
  png: string | null;
}

export interface WrittenReport {
  dir: string;
  html: string;
  table: string;
  tableText: string;
  findings: string;
  plots: WrittenPlot[];
  /** Things the caller should know (PNGs skipped and why). */
  notes: string[];
}

function defaultLog(line: string): void {
  process.stderr.write(`lion study: ${line}\n`);
}

/** Writes the report folder for `results` into `dir` (created if needed) and returns the paths. */
export async function writeReport(
  dir: string,
  results: StudyResults,
  options: WriteReportOptions = {},
): Promise<WrittenReport> {
  const log = options.log ?? defaultLog;
  const root = resolve(dir);
  const plotDir = join(root, 'plots');
  mkdirSync(plotDir, { recursive: true });
  const plots = renderPlots(results);
  const notes: string[] = [];

  const written: WrittenPlot[] = plots.map((p) => {
    const svg = join(plotDir, `${p.id}.svg`);
    writeBytesAtomic(svg, p.svg);
    return { id: p.id, title: p.title, svg, png: null };
  });

  const want = options.png ?? 'auto';
  if (want !== false) {
    try {
      for (const [i, p] of plots.entries()) {
        const file = join(plotDir, `${p.id}.png`);
        writeBytesAtomic(file, rasterizeSvg(p.svg, options.pngWidth ?? 1280));
        written[i]!.png = file;
      }
    } catch (e) {
      if (want === true) throw e;
      const why = (e as Error).message;
      notes.push(`PNG plots skipped: ${why}`);
      log(`PNG plots skipped (${why}); the SVGs and the HTML report are complete`);
      // a PNG left from an earlier run would no longer match its SVG
      for (const w of written) {
        w.png = null;
        rmSync(join(plotDir, `${w.id}.png`), { force: true });
      }
    }
  } else {
    // a PNG left from an earlier run would no longer match its SVG
    for (const w of written) rmSync(join(plotDir, `${w.id}.png`), { force: true });
  }

  const html = join(root, 'report.html');
  const table = join(root, 'table.md');
  const tableText = join(root, 'table.txt');
  const findings = join(root, 'findings.md');
  writeBytesAtomic(table, renderMarkdownTable(results));
  writeBytesAtomic(tableText, renderTable(results));
  writeBytesAtomic(findings, renderFindingsText(results));
  writeBytesAtomic(html, renderHtml(results, plots));
  return { dir: root, html, table, tableText, findings, plots: written, notes };
}

/**
 * Reads a results JSON file, validates it, and writes its report into `dir`.
 * @throws Error naming the file and the first invalid field when the JSON does not fit {@link StudyResults}.
 */
export async function renderReportFromJson(
  file: string,
  dir: string,
  options: WriteReportOptions = {},
): Promise<WrittenReport> {
  if (!existsSync(file))
    throw new Error(`lion study: results file not found '${file}'; hint: pass the results.json the study wrote`);
  const results = parseStudyResults(readFileSync(file, 'utf8'), file);
  return writeReport(dir, results, options);
}
