/**
 * The Hugging Face Hub's URL layout on 127.0.0.1 (the revision API, resolve/ with ETag headers, LFS
 * files behind a CDN redirect with Range support), for the tests of models by name.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitOid = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const isLfs = (name: string): boolean => /\.(safetensors|bin)$/.test(name);

/** A 40-hex commit made of one repeated character. */
export const commit = (c: string): string => c.repeat(40);

/** A local folder's files (top level) as a repository at `commitId`. */
export function repoOf(dir: string, commitId: string): FakeRepo {
  return { commit: commitId, files: Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))])) };
}

/** A repository as the fake hub serves it: files by name, which are LFS (served by a CDN redirect). */
export interface FakeRepo {
  commit: string;
  files: Record<string, Buffer>;
  gated?: boolean;
}

export interface Hub {
  url: string;
  requests: { method: string; path: string; range?: string; auth?: string }[];
  /** Cut the next CDN transfer after this many bytes. */
  cutAfter?: number;
  close(): Promise<void>;
}

/** The Hugging Face Hub's URL layout on 127.0.0.1: the revision API, resolve/ with ETag headers, a CDN. */
export async function fakeHub(repos: Record<string, FakeRepo>, token = 'hf_secret'): Promise<Hub> {
  const blobs = new Map<string, Buffer>();
  const hub: Hub = { url: '', requests: [], close: async () => {} };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = decodeURIComponent(u.pathname);
    hub.requests.push({ method: req.method!, path: p, range: req.headers.range, auth: req.headers.authorization });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(p);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
    const repoOf = (name: string) => {
      const r = repos[name];
      if (r?.gated && req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401).end();
        return null;
      }
      if (!r) res.writeHead(404).end();
      return r ?? null;
    };
    if (api) {
      const r = repoOf(api[1]!);
      if (!r) return;
      if (api[2] !== 'main' && api[2] !== r.commit) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: api[1], sha: r.commit, siblings: [...Object.keys(r.files), 'README.md', '.gitattributes'].map((rfilename) => ({ rfilename })) }));
      return;
    }
    if (resolve) {
      const r = repoOf(resolve[1]!);
      if (!r) return;
      const body = r.files[resolve[3]!];
      if (!body || resolve[2] !== r.commit) return void res.writeHead(404).end();
      if (isLfs(resolve[3]!)) {
        const id = sha256(body);
        blobs.set(id, body);
        res.writeHead(302, { location: `/cdn/${id}`, 'x-linked-etag': `"${id}"`, 'x-linked-size': String(body.length), 'x-repo-commit': r.commit });
        return void res.end();
      }
      res.writeHead(200, { etag: `"${gitOid(body)}"`, 'x-repo-commit': r.commit, 'content-length': body.length });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(p);
    const body = cdn ? blobs.get(cdn[1]!) : undefined;
    if (!body) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { 'content-length': body.length - start, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    const rest = body.subarray(start);
    if (hub.cutAfter !== undefined) {
      const n = hub.cutAfter;
      hub.cutAfter = undefined;
      res.write(rest.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(rest);
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return hub;
}

