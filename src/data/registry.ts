/**
 * The dataset registry: ir_datasets-style ids mapped to their files. Each file has an official
 * source (URL, checksum, size; inside an archive when `member` is set) and a mirror source: its path
 * under a mirror root (the written mapping that lets a local copy of the collections, or a web server
 * serving it, act as `LION_DATA_MIRROR`), with the sha256 of the mirrored file.
 *
 * Checksums of official downloads are the md5 values published by BEIR (zips) and listed by
 * ir_datasets (MS MARCO, TREC DL, Cranfield). The mirrored DL19 and DL20 qrels hash to the
 * same md5 as NIST's files. Sizes are given where published; BEIR does not publish zip sizes, so those
 * downloads are checked by md5 alone.
 * @module
 */
import type { CorpusFormat, QrelsFormat, QueriesFormat } from './formats.ts';

/** Where a file comes from officially. */
export interface OfficialSource<F> {
  format: F;
  url: string;
  /** Checksums of the download (the archive when `member` is set). */
  md5?: string;
  sha256?: string;
  /** Download size in bytes, when published. */
  size?: number;
  /** The file inside the archive (zip or tar.gz); absent when the download is the file itself. */
  member?: string;
  /** Extra request headers (MS MARCO's blob store wants a version header). */
  headers?: Record<string, string>;
}

/** Where a file sits under a mirror root, and what it hashes to there. */
export interface MirrorSource<F> {
  format: F;
  path: string;
  sha256: string;
  size: number;
}

export interface FileSpec<F> {
  official: OfficialSource<F> | null;
  mirror: MirrorSource<F> | null;
}

export interface DatasetEntry {
  id: string;
  description: string;
  docs: FileSpec<CorpusFormat>;
  queries: FileSpec<QueriesFormat>;
  qrels: FileSpec<QrelsFormat>;
  /** Keep only queries that have judgements (BEIR splits, TREC DL "judged"). */
  judgedOnly: boolean;
  /** Drop hits whose doc id equals the query id before evaluating (BEIR's convention). */
  removeSelfHits: boolean;
  /**
   * The documents are MS MARCO passages kept in BEIR layout (with empty titles): they are read without
   * a title, so they encode as their text, as the authors encode MS MARCO, not as BEIR's " " + text.
   */
  untitled?: boolean;
  /** The measures usually reported for this dataset. */
  measures: string[];
  /** Expected sizes after filtering (checked by tests against the mirror). */
  counts: { docs: number; queries: number; qrels: number };
  notes?: string;
}

const BEIR = 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets';
const MSMARCO = 'https://msmarco.z22.web.core.windows.net/msmarcoranking';
const MS_HEADERS = { 'x-ms-version': '2019-12-12' };

const SCIFACT_ZIP = { url: `${BEIR}/scifact.zip`, md5: '5f7d1de60b170fc8027bb7898e2efca1' };
const NFCORPUS_ZIP = { url: `${BEIR}/nfcorpus.zip`, md5: 'a89dba18a62ef92f7d323ec890a0d38d' };
const MSMARCO_TAR = {
  url: `${MSMARCO}/collectionandqueries.tar.gz`,
  md5: '31644046b18952c1386cd4564ba2ae69',
  size: 1_057_717_952,
  headers: MS_HEADERS,
};
const CRAN_TAR = {
  url: 'http://ir.dcs.gla.ac.uk/resources/test_collections/cran/cran.tar.gz',
  md5: '1730f7be572d95a5a4b56c59a7b900a5',
  size: 506_960,
};

const scifactDocs: FileSpec<CorpusFormat> = {
  official: { ...SCIFACT_ZIP, format: 'beir', member: 'scifact/corpus.jsonl' },
  mirror: {
    format: 'beir',
    path: 'beir/scifact/corpus.jsonl',
    sha256: 'd289bf5d711d1d6b0c9fba52b90e45a76e0b0e9f173fd3ff49cd098588de2581',
    size: 8_124_349,
  },
};
const scifactQueries: FileSpec<QueriesFormat> = {
  official: { ...SCIFACT_ZIP, format: 'beir', member: 'scifact/queries.jsonl' },
  mirror: {
    format: 'beir',
    path: 'beir/scifact/queries.jsonl',
    sha256: '8ff84a7c903f722981cd8d595c022660140c51867b27608a6d4910db86080313',
    size: 209_731,
  },
};
const msmarcoDocs: FileSpec<CorpusFormat> = {
  official: { ...MSMARCO_TAR, format: 'msmarco-tsv', member: 'collection.tsv' },
  mirror: null,
};

const ENTRIES: DatasetEntry[] = [
  {
    id: 'beir/scifact/test',
    description: 'BEIR SciFact, test split: scientific claims against paper abstracts',
    docs: scifactDocs,
    queries: scifactQueries,
    qrels: {
      official: { ...SCIFACT_ZIP, format: 'beir', member: 'scifact/qrels/test.tsv' },
      mirror: {
        format: 'beir',
        path: 'beir/scifact/qrels/test.tsv',
        sha256: '0864bb985e0ca2367ba217977e72004d549054b2b06666ed9d4825ac7c21284c',
        size: 5_389,
      },
    },
    judgedOnly: true,
    removeSelfHits: true,
    measures: ['nDCG@10', 'R@100'],
    counts: { docs: 5_183, queries: 300, qrels: 339 },
  },
  {
    id: 'beir/scifact/train',
    description: 'BEIR SciFact, train split',
    docs: scifactDocs,
    queries: scifactQueries,
    qrels: {
      official: { ...SCIFACT_ZIP, format: 'beir', member: 'scifact/qrels/train.tsv' },
      mirror: {
        format: 'beir',
        path: 'beir/scifact/qrels/train.tsv',
        sha256: 'a53f2114831916c096b6c37d9e54da68cef4efdcdbd5ed46533601af972acf1d',
        size: 14_502,
      },
    },
    judgedOnly: true,
    removeSelfHits: true,
    measures: ['nDCG@10', 'R@100'],
    counts: { docs: 5_183, queries: 809, qrels: 919 },
  },
  {
    id: 'beir/nfcorpus/test',
    description: 'BEIR NFCorpus, test split: nutrition questions against medical abstracts',
    docs: { official: { ...NFCORPUS_ZIP, format: 'beir', member: 'nfcorpus/corpus.jsonl' }, mirror: null },
    queries: {
      official: { ...NFCORPUS_ZIP, format: 'beir', member: 'nfcorpus/queries.jsonl' },
      mirror: {
        format: 'tsv',
        path: 'beir/topics-qrels/topics.beir-v1.0.0-nfcorpus.test.tsv.gz',
        sha256: '3b2d068344ae4e711656203c0937cbb4c2eb91759c0d0973525af7545500a345',
        size: 5_037,
      },
    },
    qrels: {
      official: { ...NFCORPUS_ZIP, format: 'beir', member: 'nfcorpus/qrels/test.tsv' },
      mirror: {
        format: 'trec',
        path: 'beir/topics-qrels/qrels.beir-v1.0.0-nfcorpus.test.txt',
        sha256: '9d822ee3fc9e3b395d7fe25a13d81686f54b2a056992574daa825e792800c959',
        size: 291_880,
      },
    },
    judgedOnly: true,
    removeSelfHits: true,
    measures: ['nDCG@10', 'R@100'],
    counts: { docs: 3_633, queries: 323, qrels: 12_334 },
    notes:
      'The shared mirror holds the topics and qrels (as Anserini ships them) but not the corpus; the corpus comes from the official zip.',
  },
  {
    id: 'msmarco-passage/dev/small',
    description: 'MS MARCO passage ranking, the 6,980-query dev subset',
    docs: msmarcoDocs,
    queries: {
      official: { ...MSMARCO_TAR, format: 'tsv', member: 'queries.dev.small.tsv' },
      mirror: {
        format: 'tsv',
        path: 'msmarco-passage/topics-qrels/topics.msmarco-passage.dev-subset.txt',
        sha256: 'f4f71fa87b6be4fb968cca2b8f8554c4ebd003e6c3488af3ac1cc5629c3de189',
        size: 290_193,
      },
    },
    qrels: {
      official: { ...MSMARCO_TAR, format: 'trec', member: 'qrels.dev.small.tsv' },
      mirror: {
        format: 'trec',
        path: 'msmarco-passage/topics-qrels/qrels.msmarco-passage.dev-subset.txt',
        sha256: '34ef51a24e049b3dd19b0a448b764f26b0def22ec42f421ecba2db91f82e7042',
        size: 143_300,
      },
    },
    judgedOnly: true,
    removeSelfHits: false,
    measures: ['RR@10', 'R@1000'],
    counts: { docs: 8_841_823, queries: 6_980, qrels: 7_437 },
  },
  {
    id: 'msmarco-passage/trec-dl-2019/judged',
    description: 'TREC Deep Learning 2019 passage task, the 43 judged queries',
    docs: msmarcoDocs,
    queries: {
      official: {
        format: 'tsv',
        url: `${MSMARCO}/msmarco-test2019-queries.tsv.gz`,
        md5: 'eda71eccbe4d251af83150abe065368c',
        size: 4_276,
      },
      mirror: {
        format: 'tsv',
        path: 'msmarco-passage/topics-qrels/topics.dl19-passage.txt',
        sha256: '518992da259fb61f64e4790791df91a7b42ea5773f374aed59220ebb51d58d90',
        size: 1_764,
      },
    },
    qrels: {
      official: {
        format: 'trec',
        url: 'https://trec.nist.gov/data/deep/2019qrels-pass.txt',
        md5: '2f4be390198da108f6845c822e5ada14',
        size: 187_092,
      },
      mirror: {
        format: 'trec',
        path: 'msmarco-passage/topics-qrels/qrels.dl19-passage.txt',
        sha256: '8a1f10d550732e4cd91d7fc49846a3784de4040972f583e69285a88f3c5fee92',
        size: 187_092,
      },
    },
    judgedOnly: true,
    removeSelfHits: false,
    measures: ['nDCG@10', 'R(rel=2)@1000', 'AP(rel=2)'],
    counts: { docs: 8_841_823, queries: 43, qrels: 9_260 },
  },
  {
    id: 'msmarco-passage/trec-dl-2020/judged',
    description: 'TREC Deep Learning 2020 passage task, the 54 judged queries',
    docs: msmarcoDocs,
    queries: {
      official: {
        format: 'tsv',
        url: `${MSMARCO}/msmarco-test2020-queries.tsv.gz`,
        md5: '00a406fb0d14ed3752d70d1e4eb98600',
        size: 4_131,
      },
      mirror: {
        format: 'tsv',
        path: 'msmarco-passage/topics-qrels/topics.dl20.txt',
        sha256: '726cb4018b85a335fcbe09004df7f084ec1bf20531961d9af7b0c71dd609e69b',
        size: 8_394,
      },
    },
    qrels: {
      official: {
        format: 'trec',
        url: 'https://trec.nist.gov/data/deep/2020qrels-pass.txt',
        md5: '0355ccee7509ac0463e8278186cdd8d1',
        size: 218_617,
      },
      mirror: {
        format: 'trec',
        path: 'msmarco-passage/topics-qrels/qrels.dl20-passage.txt',
        sha256: '60d4c34561f9687f8f73e0a752ba80ab80159b3e9c1bedd0a351f747ed6f5684',
        size: 218_617,
      },
    },
    judgedOnly: true,
    removeSelfHits: false,
    measures: ['nDCG@10', 'R(rel=2)@1000', 'AP(rel=2)'],
    counts: { docs: 8_841_823, queries: 54, qrels: 11_386 },
  },
  {
    id: 'msmarco-passage/dl19-mini',
    description:
      "Lion's DL19 subset: 5,000 MS MARCO passages (every passage judged >= 1 for DL19 plus 898 unjudged) and the 43 judged DL19 queries",
    docs: {
      official: null,
      mirror: {
        format: 'beir',
        path: 'msmarco-passage/dl19-mini/corpus.jsonl',
        sha256: '5444f4de73880fc48c5abe67bc9a2d9acc44c60c9b8173076f831dd527a21663',
        size: 2_089_842,
      },
    },
    queries: {
      official: null,
      mirror: {
        format: 'beir',
        path: 'msmarco-passage/dl19-mini/queries.jsonl',
        sha256: '6ed23496f47ed2933c4575b379a0a96ff2ec6cd51e7f925a91de73de8e3635ab',
        size: 3_946,
      },
    },
    qrels: {
      official: null,
      mirror: {
        format: 'beir',
        path: 'msmarco-passage/dl19-mini/qrels/test.tsv',
        sha256: '1b20b1cc3f467edd91e762708f21556ec9d767145430b7f38eece6c7a95d38ef',
        size: 70_545,
      },
    },
    judgedOnly: true,
    removeSelfHits: false,
    untitled: true,
    measures: ['nDCG@10', 'R@1000', 'R(rel=2)@1000'],
    counts: { docs: 5_000, queries: 43, qrels: 4_102 },
    notes:
      'A subset built for Lion, not an official dataset: it exists only in a mirror. Scores are not comparable with full-collection DL19.',
  },
  {
    id: 'cranfield',
    description: 'The Cranfield collection: 1,400 aeronautics abstracts, 225 queries',
    docs: {
      official: { ...CRAN_TAR, format: 'smart', member: 'cran.all.1400' },
      mirror: {
        format: 'smart',
        path: 'classic/cran/cran.all.1400',
        sha256: 'b234544b6ceccd131520df4a3cb6d42aee6576eb577933d047e722bbfe7b0b09',
        size: 1_644_706,
      },
    },
    queries: {
      official: { ...CRAN_TAR, format: 'smart', member: 'cran.qry' },
      mirror: {
        format: 'smart',
        path: 'classic/cran/cran.qry',
        sha256: '99578ceb88941ef89c14faf7c63c23776a376d8fba319b990f01d0c601d8b03f',
        size: 28_957,
      },
    },
    qrels: {
      official: { ...CRAN_TAR, format: 'three-column', member: 'cranqrel' },
      mirror: {
        format: 'three-column',
        path: 'classic/cran/cran.qrels',
        sha256: '92e54b58dac0b980152178f350d892fae66c8a239b8a11715b835fb8d2f6bc0e',
        size: 19_541,
      },
    },
    judgedOnly: true,
    removeSelfHits: false,
    measures: ['nDCG@10', 'AP'],
    counts: { docs: 1_400, queries: 225, qrels: 1_837 },
    notes:
      'Query ids are renumbered 1..225 in file order, as the qrels and ir_datasets number them. Grades are as published: 1 = most relevant … 4 = least, -1 = the source paper (trec_eval treats negative grades as unjudged); nDCG therefore rewards the wrong order — prefer binary measures.',
  },
];

const BY_ID = new Map(ENTRIES.map((e) => [e.id, e]));

/** Every registered dataset. */
export function listDatasets(): readonly DatasetEntry[] {
  return ENTRIES;
}

/** Whether a name that is not a dataset id was meant as a file: it has an extension or starts like a path. */
function looksLikePath(id: string): boolean {
  return /^(\.{0,2}\/|~)/.test(id) || /\.[A-Za-z0-9]{1,8}$/.test(id);
}

/** The entry for `id`, or an error listing the known ids. */
export function getDataset(id: string): DatasetEntry {
  const e = BY_ID.get(id);
  if (!e && looksLikePath(id))
    throw new Error(`lion: no such file '${id}' (and it is not a dataset id); hint: check the path (relative paths start at the current folder), or give a dataset id such as ${ENTRIES[0]!.id}`);
  if (!e) throw new Error(`lion: unknown dataset '${id}'; hint: known ids are ${ENTRIES.map((x) => x.id).join(', ')}`);
  return e;
}
