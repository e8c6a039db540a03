/**
 * Downloads that resume and verify: bytes go to `<dest>.part`; an interrupted transfer continues with
 * an HTTP Range request; the finished file is checked against its md5/sha256 and only then renamed
 * to `dest`. A checksum mismatch deletes the partial file and is refused.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Transform } from 'node:stream';
import { EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';

/** What a file must hash to. Either or both; with neither, the download is not verified. */
export interface Checksums {
  md5?: string;
  sha256?: string;
}

export interface DownloadOptions extends Checksums {
  /** Expected size in bytes, when known. */
  size?: number;
  /** Further attempts after an interrupted transfer (default 5). */
  retries?: number;
  /** Progress and retry messages. */
  log?: (msg: string) => void;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Wait before retry n is `backoffMs * n` (default 500). */
  backoffMs?: number;
  /** The partial file (default `<dest>.part`; the Hugging Face cache uses `<blob>.incomplete`). */
  part?: string;
  /** Bytes written so far (resumed bytes included) and the total when known, after each chunk. */
  onProgress?: (bytes: number, total: number | undefined) => void;
}

let proxy: { key: string; agent: Dispatcher } | null = null;

/**
 * fetch() that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) as curl and Python do;
 * Node's built-in fetch ignores them. Without a proxy variable this is the built-in fetch.
 */
export function httpFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const env = process.env;
  const vars = [env.HTTPS_PROXY, env.https_proxy, env.HTTP_PROXY, env.http_proxy];
  if (!vars.some(Boolean)) return fetch(url, init);
  const key = [...vars, env.NO_PROXY, env.no_proxy].join('|');
  if (proxy?.key !== key) proxy = { key, agent: new EnvHttpProxyAgent() };
  return undiciFetch(url, { ...(init as object), dispatcher: proxy.agent }) as unknown as Promise<Response>;
}

/** Raised when a finished download does not hash to the expected value. */
export class ChecksumError extends Error {
  constructor(what: string, algo: string, expected: string, actual: string) {
    super(
      `lion: checksum mismatch for ${what}: expected ${algo} ${expected}, got ${actual}; hint: the source is corrupt or changed; the partial file was deleted, check the URL or mirror`,
    );
    this.name = 'ChecksumError';
  }
}

/** Hashes a file with each algorithm in one streaming pass. */
export async function hashFile(path: string, algos: readonly ('md5' | 'sha256')[]): Promise<Record<string, string>> {
  const hs = algos.map((a) => [a, createHash(a)] as const);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
    for (const [, h] of hs) h.update(chunk as Buffer);
  return Object.fromEntries(hs.map(([a, h]) => [a, h.digest('hex')]));
}

/** Throws ChecksumError unless `path` matches every given checksum. */
export async function verifyFile(path: string, sums: Checksums, what = path): Promise<void> {
  const algos = (['md5', 'sha256'] as const).filter((a) => sums[a]);
  if (algos.length === 0) return;
  const got = await hashFile(path, algos);
  for (const a of algos) {
    if (got[a] !== sums[a]!.toLowerCase()) throw new ChecksumError(what, a, sums[a]!, got[a]!);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(
      `lion: download of ${url} failed with HTTP ${status}; hint: check the URL, or set LION_DATA_MIRROR to a local copy`,
    );
  }
}

/** Total size of the resource from Content-Range ("bytes a-b/total") or Content-Length. */
function totalSize(res: Response, offset: number): number | undefined {
  const range = res.headers.get('content-range');
  const m = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (m) return Number(m[1]);
  const len = res.headers.get('content-length');
  return len === null ? undefined : offset + Number(len);
}

/**
 * Downloads `url` to `dest`, resuming from an existing `<dest>.part` and after interruptions, then
 * verifies the checksums and renames into place. Returns at once when `dest` already exists (files
 * reach `dest` only after verification).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  if ((await sizeOf(dest)) > 0) return;
  await mkdir(dirname(dest), { recursive: true });
  const part = opts.part ?? `${dest}.part`;
  const retries = opts.retries ?? 5;
  const log = opts.log ?? (() => {});
  for (let attempt = 0; ; attempt++) {
    let have = await sizeOf(part);
    if (opts.size !== undefined && have > opts.size) {
      await rm(part, { force: true });
      have = 0;
    }
    if (opts.size !== undefined && have === opts.size) break; // complete from an earlier run
    try {
      const headers: Record<string, string> = { ...opts.headers };
      if (have > 0) headers['range'] = `bytes=${have}-`;
      const res = await httpFetch(url, { headers });
      if (res.status === 416 && have > 0) break; // nothing left to send: the part is complete
      if (!res.ok || !res.body) throw new HttpStatusError(res.status, url);
      const append = res.status === 206;
      if (have > 0 && !append) log(`${url}: server ignored the Range request; starting over`);
      const offset = append ? have : 0;
      const total = totalSize(res, offset);
      if (have > 0 && append) log(`${url}: resuming at byte ${have}${total ? ` of ${total}` : ''}`);
      let bytes = offset;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          opts.onProgress?.(bytes, total);
          done(null, chunk);
        },
      });
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        count,
        createWriteStream(part, { flags: append ? 'a' : 'w' }),
      );
      const got = await sizeOf(part);
      if (total !== undefined && got < total) throw new Error(`connection closed after ${got} of ${total} bytes`);
      break;
    } catch (e) {
      const status = e instanceof HttpStatusError ? e.status : 0;
      const retriable = status === 0 || status >= 500 || status === 408 || status === 429;
      if (!retriable || attempt >= retries) {
        if (e instanceof HttpStatusError) throw e;
        throw new Error(
          `lion: download of ${url} failed after ${attempt + 1} attempts (${(e as Error).message}); hint: run again to resume from ${part}`,
          { cause: e },
        );
      }
      log(`${url}: interrupted at byte ${await sizeOf(part)} (${(e as Error).message}); retrying`);
      await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 500) * (attempt + 1)));
    }
  }
  const got = await sizeOf(part);
  if (opts.size !== undefined && got !== opts.size) {
    await rm(part, { force: true });
    throw new Error(
      `lion: download of ${url} has ${got} bytes, expected ${opts.size}; hint: the source changed or is truncated; the partial file was deleted`,
    );
  }
  try {
    await verifyFile(part, opts, url);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
  await rename(part, dest);
}
