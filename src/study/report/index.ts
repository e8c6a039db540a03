/**
 * The scaling study's presentation layer: table, plots, findings and HTML report, all functions of
 * a {@link StudyResults}. See docs/study-report.md.
 * @module
 */
export type { EvalSetSpec, StudyObjective, StudyParadigm, StudyResults, StudyRow } from './types.ts';
export { renderTable, renderMarkdownTable, tableModel, type TableModel, type TableColumn } from './table.ts';
export { renderPlots, renderPlotSvg, plotSpecs, plotId, type Plot, type PlotSpec, type PlotSeries } from './plot.ts';
export {
  analyzeFindings,
  renderFindingsText,
  type Finding,
  type FindingId,
  type FindingsAnalysis,
  type LineScaling,
  type Verdict,
} from './findings.ts';
export { renderHtml } from './html.ts';
export {
  Chromium,
  RasterizerUnavailableError,
  findChromium,
  screenshotHtml,
  type ScreenshotOptions,
} from './chromium.ts';
export { rasterizeSvg } from './raster.ts';
export { parseStudyResults, RESULTS_FORMAT_VERSION } from './schema.ts';
export {
  writeReport,
  renderReportFromJson,
  type WriteReportOptions,
  type WrittenPlot,
  type WrittenReport,
} from './write.ts';
