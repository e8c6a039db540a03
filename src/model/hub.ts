/**
 * Models by name: `org/name[@revision]` is fetched from the Hugging Face Hub into the hub's own cache
 * layout, so files that Python tools (transformers, huggingface_hub) already fetched are reused, and
 * theirs reuse ours:
 *
 *   $HF_HUB_CACHE (default $HF_HOME/hub, default ~/.cache/huggingface/hub)
 *     models--org--name/
 *       blobs/<etag>                 file contents, named by ETag (sha256 for LFS files, git oid otherwise)
 *       snapshots/<commit>/<file>    relative symlinks into blobs/
 *       refs/<revision>              the commit a branch or tag pointed at when last fetched
 *
 * Environment, as huggingface_hub reads it: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN
 * (gated and private repositories), HF_HUB_OFFLINE=1 (cache only, no network), HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY. An interrupted download resumes from `blobs/<etag>.incomplete`.
 *
 * Only the files a Llama retriever needs are fetched (configs, tokenizer, safetensors or else .bin
 * weights, PEFT adapter files, a Lion cross-encoder's score head). A PEFT adapter repository
 * (adapter_config.json) names its base model in `base_model_name_or_path`, which is resolved the same
 * way.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { downloadFile, httpFetch } from '../data/download.ts';
import { readLoraConfig } from '../formats/peft.ts';
import { loadBackbone, type Backbone, type BackboneSpec } from './backbone.ts';

/** A model on the hub: `repo` is `org/name`, `revision` a branch, tag or commit (default main). */
export interface ModelRef {
  repo: string;
  revision: string;
}

export interface HubOptions {
  /** Default $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default $HF_TOKEN. */
  token?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE is 1/true/yes/on). */
  offline?: boolean;
  /** One line per event (which files are fetched, resumed or reused). */
  log?: (msg: string) => void;
  /** Bytes of `file` fetched so far, and its size when known. */
  onProgress?: (file: string, bytes: number, total: number | undefined) => void;
}

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * `org/name` or `org/name@revision` as a hub reference; null for anything else and for an existing
 * local path (a folder called `org/name` beside you wins over the hub).
 */
export function parseModelRef(spec: string): ModelRef | null {
  if (existsSync(spec)) return null;
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  if (!REPO.test(repo) || repo.includes('..') || revision === '' || /\s/.test(revision)) return null;
  return { repo, revision };
}

/** The hub cache folder, by huggingface_hub's rules. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return path.resolve(env.HF_HUB_CACHE);
  const home = env.HF_HOME ? path.resolve(env.HF_HOME) : path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

function isOffline(o: HubOptions): boolean {
  if (o.offline !== undefined) return o.offline;
  return /^(1|true|yes|on)$/i.test(process.env.HF_HUB_OFFLINE ?? '');
}

/** The files of a repository that Lion reads; .bin weights only where there are no safetensors. */
export function filesToFetch(names: readonly string[]): string[] {
  const wanted = (n: string) =>
    /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|adapter_config)\.json$/.test(n) ||
    /^(model|adapter_model)(-\d+-of-\d+)?\.safetensors$/.test(n) ||
    n === 'model.safetensors.index.json' ||
    n === 'score.safetensors' || // a Lion cross-encoder's score head
    n === 'tokenizer.model';
  const picked = names.filter(wanted);
  const hasSafetensors = (prefix: string) => picked.some((n) => n.startsWith(prefix) && n.endsWith('.safetensors'));
  for (const n of names) {
    if (/^pytorch_model(-\d+-of-\d+)?\.bin$/.test(n) || n === 'pytorch_model.bin.index.json') {
      if (!hasSafetensors('model')) picked.push(n);
    } else if (n === 'adapter_model.bin' && !hasSafetensors('adapter_model')) picked.push(n);
  }
  return picked.sort();
}

function repoFolder(cache: string, repo: string): string {
  return path.join(cache, `models--${repo.replace('/', '--')}`);
}

/** huggingface_hub's ETag normalisation: the linked (LFS) etag if any, without W/ and quotes. */
function etagOf(res: Response): string | null {
  const raw = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
  return raw ? raw.replace(/^W\//, '').replace(/^"|"$/g, '') : null;
}

function hubError(what: string, hint: string): Error {
  return new Error(`lion: ${what}; hint: ${hint}`);
}

/** The snapshot folder of a cached revision, or null (offline mode). */
function cachedSnapshot(folder: string, revision: string): string | null {
  let commit = revision;
  if (!COMMIT.test(revision)) {
    const ref = path.join(folder, 'refs', revision);
    if (!existsSync(ref)) return null;
    commit = readFileSync(ref, 'utf8').trim();
  }
  const snap = path.join(folder, 'snapshots', commit);
  return existsSync(snap) && readdirSync(snap).length > 0 ? snap : null;
}

function linkIntoSnapshot(snapshotDir: string, file: string, blob: string): void {
  const link = path.join(snapshotDir, file);
  mkdirSync(path.dirname(link), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(path.relative(path.dirname(link), blob), link);
}

/**
 * A local folder for `spec`: the path itself when it is not a hub reference, else the snapshot folder
 * in the hub cache after fetching what is missing (offline: what the cache holds, or a clear error).
 */
export async function resolveModel(spec: string, o: HubOptions = {}): Promise<string> {
  const ref = parseModelRef(spec);
  if (!ref) return spec;
  const cache = o.cacheDir ?? hubCacheDir();
  const folder = repoFolder(cache, ref.repo);
  const log = o.log ?? (() => {});
  if (isOffline(o)) {
    const snap = cachedSnapshot(folder, ref.revision);
    if (!snap) {
      throw hubError(
        `model '${spec}' is not in the Hugging Face cache ${cache} and HF_HUB_OFFLINE is set`,
        'fetch it once online (unset HF_HUB_OFFLINE), or set HF_HUB_CACHE / HF_HOME to the cache that holds it',
      );
    }
    return snap;
  }
  const endpoint = (o.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = o.token ?? process.env.HF_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const rev = encodeURIComponent(ref.revision);

  let info: Response;
  try {
    info = await httpFetch(`${endpoint}/api/models/${ref.repo}/revision/${rev}`, { headers });
  } catch (e) {
    const snap = cachedSnapshot(folder, ref.revision);
    if (snap) {
      log(`${spec}: the hub is unreachable (${(e as Error).message}); using the cached snapshot`);
      return snap;
    }
    throw hubError(`cannot reach ${endpoint} for model '${spec}' (${(e as Error).message})`, 'check the network or HTTPS_PROXY, or set HF_HUB_OFFLINE=1 to use the cache');
  }
  if (info.status === 401 || info.status === 403) {
    throw hubError(`the hub refused model '${spec}' (HTTP ${info.status})`, 'the repository is gated or private: accept its licence on the hub and set HF_TOKEN');
  }
  if (info.status === 404) throw hubError(`no model '${ref.repo}' at revision '${ref.revision}' on ${endpoint} (HTTP 404)`, 'check the name (org/name) and revision (@branch, @tag or @commit)');
  if (!info.ok) throw hubError(`the hub answered HTTP ${info.status} for model '${spec}'`, 'try again later, or set HF_HUB_OFFLINE=1 to use the cache');
  const meta = (await info.json()) as { sha?: string; siblings?: { rfilename: string }[] };
  const commit = meta.sha;
  if (!commit || !COMMIT.test(commit) || !Array.isArray(meta.siblings)) {
    throw hubError(`${endpoint} gave no commit or file list for model '${spec}'`, 'is HF_ENDPOINT a Hugging Face Hub?');
  }
  const files = filesToFetch(meta.siblings.map((s) => s.rfilename));
  if (files.length === 0) throw hubError(`model '${spec}' has no config, weights or adapter files Lion reads`, 'Lion loads Llama models in HF layout and PEFT adapters');

  const snapshot = path.join(folder, 'snapshots', commit);
  for (const file of files) {
    const link = path.join(snapshot, file);
    if (existsSync(link)) continue; // a symlink to a complete blob: blobs are renamed into place only when complete
    const url = `${endpoint}/${ref.repo}/resolve/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
    // The hub answers HEAD itself and redirects LFS files to a CDN: its headers carry the etag.
    const head = await httpFetch(url, { method: 'HEAD', headers, redirect: 'manual' });
    if (head.status >= 400) throw hubError(`HEAD ${url} answered HTTP ${head.status}`, head.status === 401 || head.status === 403 ? 'set HF_TOKEN for gated or private repositories' : 'try again later');
    const etag = etagOf(head);
    if (!etag || etag.includes('/') || etag.includes('..')) throw hubError(`${url} has no usable ETag`, 'is HF_ENDPOINT a Hugging Face Hub?');
    const sizeHeader = head.headers.get('x-linked-size') ?? (head.status < 300 ? head.headers.get('content-length') : null);
    const size = sizeHeader === null ? undefined : Number(sizeHeader);
    const blob = path.join(folder, 'blobs', etag);
    if (!existsSync(blob)) {
      const part = `${blob}.incomplete`;
      log(`${spec}: ${existsSync(part) ? 'resuming' : 'fetching'} ${file}${size ? ` (${(size / 2 ** 20).toFixed(1)} MiB)` : ''}`);
      await downloadFile(url, blob, {
        part,
        size,
        sha256: /^[0-9a-f]{64}$/.test(etag) ? etag : undefined, // LFS etags are the content's sha256
        headers,
        log,
        onProgress: o.onProgress ? (bytes, total) => o.onProgress!(file, bytes, total) : undefined,
      });
    }
    linkIntoSnapshot(snapshot, file, blob);
  }
  if (!COMMIT.test(ref.revision) || ref.revision !== commit) {
    mkdirSync(path.dirname(path.join(folder, 'refs', ref.revision)), { recursive: true });
    writeFileSync(path.join(folder, 'refs', ref.revision), commit);
  }
  return snapshot;
}

/** Whether a folder is a PEFT adapter (adapter_config.json) rather than a full model. */
function isAdapterFolder(dir: string): boolean {
  return existsSync(path.join(dir, 'adapter_config.json')) && statSync(dir).isDirectory();
}

/**
 * Resolves the names in a backbone spec to local folders. A `model` that is a PEFT adapter (as the
 * released Lion checkpoints are) becomes the adapter, and its `base_model_name_or_path` the model.
 */
export async function resolveBackbone(spec: BackboneSpec, o: HubOptions = {}): Promise<BackboneSpec> {
  let model = await resolveModel(spec.model, o);
  let adapter = spec.adapter === undefined ? undefined : await resolveModel(spec.adapter, o);
  if (adapter === undefined && isAdapterFolder(model)) {
    const base = readLoraConfig(model).base_model_name_or_path;
    if (!base) {
      throw hubError(`${path.join(model, 'adapter_config.json')} names no base_model_name_or_path`, 'pass the base model with --model and this folder with --adapter');
    }
    if (!existsSync(base) && !parseModelRef(base)) {
      throw hubError(`the adapter '${spec.model}' was trained on '${base}', which is neither a folder here nor a hub name`, 'pass the base model with --model and the adapter with --adapter');
    }
    adapter = model;
    model = await resolveModel(base, o);
  }
  return { ...spec, model, ...(adapter === undefined ? {} : { adapter }) };
}

/** resolveBackbone, then loadBackbone: a model (and adapter) by folder or hub name, ready to encode. */
export async function loadPretrained(spec: BackboneSpec, o: HubOptions = {}): Promise<Backbone> {
  return loadBackbone(await resolveBackbone(spec, o));
}
