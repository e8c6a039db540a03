/**
 * Data: readers and writers for BEIR, MS MARCO, TREC and SMART files and training examples, and the
 * dataset registry (ids, downloads, cache, mirror).
 * @module
 */
export * from './types.ts';
export { DataError } from './errors.ts';
export { readLines, AtomicTextWriter, writeTextAtomic } from './lines.ts';
export {
  readBeirCorpus,
  readBeirQueries,
  readBeirQrels,
  writeBeirCorpus,
  writeBeirQueries,
  writeBeirQrels,
} from './beir.ts';
export { readMsmarcoCollection, writeMsmarcoCollection } from './msmarco.ts';
export {
  readTrecQrels,
  readTrecRun,
  writeTrecRun,
  writeTrecQrels,
  readTsvQueries,
  readSgmlTopics,
  trecRunLines,
  type TopicField,
} from './trec.ts';
export { readSmartDocs, readSmartQueries, readThreeColumnQrels } from './smart.ts';
export {
  readDocs,
  readQueries,
  loadQueries,
  readQrels,
  detectCorpusFormat,
  detectQueriesFormat,
  detectQrelsFormat,
  type CorpusFormat,
  type QueriesFormat,
  type QrelsFormat,
} from './formats.ts';
export {
  readTrainingExamples,
  writeTrainingExamples,
  detectTrainingFormat,
  type TrainingExample,
  type TrainingFormat,
  type TextRef,
} from './training.ts';
export { listDatasets, getDataset, type DatasetEntry, type FileSpec } from './registry.ts';
export { openDataset, resolveFile, lionHome, Dataset, type DatasetOptions } from './datasets.ts';
export { downloadFile, verifyFile, hashFile, ChecksumError } from './download.ts';
