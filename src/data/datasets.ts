/**
 * Resolving dataset ids to local files: the cache (`LION_HOME`, default `~/.cache/lion`), the mirror
 * (`LION_DATA_MIRROR`, a folder or a URL prefix) and official downloads; then loading the resolved
 * files as documents, queries (judged only, where the dataset says so) and qrels.
 * @module
 */
import { homedir } from 'node:os';
import { join, resolve, basename } from 'node:path';
import { readFile, stat, writeFile, mkdir, rename } from 'node:fs/promises';
import { downloadFile, verifyFile } from './download.ts';
import { extractMember } from './archive.ts';
import { getDataset, type DatasetEntry, type FileSpec } from './registry.ts';
import { readDocs, loadQueries, readQrels } from './formats.ts';
import type { Doc, Qrels } from './types.ts';

export interface DatasetOptions {
  /** Cache root; default `$LION_HOME` or `~/.cache/lion`. */
  home?: string;
  /** Mirror root (folder or http(s) URL prefix); default `$LION_DATA_MIRROR`. '' disables it. */
  mirror?: string;
  /** Progress messages (downloads, fallbacks). */
  log?: (msg: string) => void;
}

/** A file on local disk and its format. */
export interface LocalFile<F> {
  path: string;
  format: F;
}

export function lionHome(opts: DatasetOptions = {}): string {
  return resolve(opts.home ?? process.env['LION_HOME'] ?? join(homedir(), '.cache', 'lion'));
}

function mirrorRoot(opts: DatasetOptions): string | undefined {
  const m = opts.mirror ?? process.env['LION_DATA_MIRROR'];
  return m ? m : undefined;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Folder-mirror files are verified once per (path, size, mtime); the record lives in the cache. */
async function verifyMirrorFileOnce(path: string, sha256: string, home: string): Promise<void> {
  const record = join(home, 'verified.json');
  const st = await stat(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  let seen: Record<string, string> = {};
  try {
    seen = JSON.parse(await readFile(record, 'utf8')) as Record<string, string>;
  } catch {
    // no record yet
  }
  if (seen[key] === sha256) return;
  await verifyFile(path, { sha256 }, path);
  seen[key] = sha256;
  await mkdir(home, { recursive: true });
  const tmp = `${record}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`; // unique: concurrent resolves may race
  await writeFile(tmp, JSON.stringify(seen, null, 1));
  await rename(tmp, record);
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A dataset file that cannot be obtained here: it has no official download and no mirror is set. */
export class UnavailableDataError extends Error {
  override name = 'UnavailableDataError';
}

/**
 * Makes one file of a dataset available locally and returns its path and format: from the mirror
 * when one is set and holds the file, else from the cache, downloading (and extracting) if needed.
 */
export async function resolveFile<F>(
  spec: FileSpec<F>,
  what: string,
  opts: DatasetOptions = {},
): Promise<LocalFile<F>> {
  const home = lionHome(opts);
  const log = opts.log ?? (() => {});
  const mirror = mirrorRoot(opts);
  if (mirror && spec.mirror) {
    const m = spec.mirror;
    if (isUrl(mirror)) {
      const dest = join(home, 'mirror', m.path);
      await downloadFile(`${mirror.replace(/\/+$/, '')}/${m.path}`, dest, { sha256: m.sha256, size: m.size, log });
      return { path: dest, format: m.format };
    }
    const path = resolve(mirror, m.path);
    if (!(await exists(path))) {
      throw new Error(
        `lion: ${what} not found in the mirror at '${path}'; hint: LION_DATA_MIRROR must be laid out as docs/data.md describes, or unset it to download`,
      );
    }
    await verifyMirrorFileOnce(path, m.sha256, home);
    return { path, format: m.format };
  }
  const o = spec.official;
  if (!o) {
    throw new UnavailableDataError(
      `lion: ${what} has no official download, only a mirror copy; hint: set LION_DATA_MIRROR to a mirror folder laid out as docs/data.md describes`,
    );
  }
  if (mirror) log(`${what}: not in the mirror; using the official source ${o.url}`);
  const archive = join(home, 'downloads', basename(new URL(o.url).pathname));
  if (!o.member) {
    await downloadFile(o.url, archive, { md5: o.md5, sha256: o.sha256, size: o.size, headers: o.headers, log });
    return { path: archive, format: o.format };
  }
  const dest = join(home, 'extracted', basename(archive).replace(/\.(zip|tar\.gz|tgz)$/, ''), o.member);
  if (!(await exists(dest))) {
    await downloadFile(o.url, archive, { md5: o.md5, sha256: o.sha256, size: o.size, headers: o.headers, log });
    log(`${what}: extracting ${o.member}`);
    await extractMember(archive, o.member, dest);
  }
  return { path: dest, format: o.format };
}

/** A dataset whose files are resolved: what `lion bm25 --dataset` and `lion eval --dataset` use. */
export class Dataset {
  private qrelsCache?: Promise<Qrels>;
  constructor(
    readonly entry: DatasetEntry,
    private readonly opts: DatasetOptions = {},
  ) {}

  get id(): string {
    return this.entry.id;
  }

  /** Streams the documents (downloads the corpus first if needed). */
  async *docs(): AsyncGenerator<Doc> {
    const f = await resolveFile(this.entry.docs, `${this.id} corpus`, this.opts);
    if (!this.entry.untitled) return yield* readDocs(f.path, f.format);
    for await (const d of readDocs(f.path, f.format)) yield { id: d.id, text: d.text };
  }

  /** The qrels, read once. */
  qrels(): Promise<Qrels> {
    this.qrelsCache ??= resolveFile(this.entry.qrels, `${this.id} qrels`, this.opts).then((f) =>
      readQrels(f.path, f.format),
    );
    return this.qrelsCache;
  }

  /** The queries (id -> text), restricted to judged ones when the dataset says so. */
  async queries(): Promise<Map<string, string>> {
    const f = await resolveFile(this.entry.queries, `${this.id} queries`, this.opts);
    const all = await loadQueries(f.path, f.format);
    if (!this.entry.judgedOnly) return all;
    const qrels = await this.qrels();
    return new Map([...all].filter(([id]) => qrels.has(id)));
  }
}

/** Opens a registered dataset by id (nothing is downloaded until a file is read). */
export function openDataset(id: string, opts: DatasetOptions = {}): Dataset {
  return new Dataset(getDataset(id), opts);
}
