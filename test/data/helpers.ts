/**
 * Shared test helpers for the data tests: the shared data folder, temp dirs, and a local HTTP server
 * (127.0.0.1) that serves a folder with Range support and can cut or corrupt responses on demand.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';

export const repoRoot = resolve(import.meta.dirname, '../..');
/** ../shared/data beside the checkout; tests that need it fail (not skip) when it is absent. */
export const sharedData = resolve(repoRoot, '../shared/data');

export function requireSharedData(): string {
  if (!existsSync(join(sharedData, 'README.md')))
    throw new Error(`shared data missing at ${sharedData}: these tests need ../shared/data`);
  return sharedData;
}

export function tempDir(prefix = 'lion-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServedRequest {
  path: string;
  range: string | undefined;
}

export interface ServerControls {
  /** Destroy the connection after sending this many body bytes, for the next `cutTimes` requests. */
  cutAfter?: number;
  cutTimes?: number;
  /** Flip one byte of every response body. */
  corrupt?: boolean;
  /** Ignore Range headers (answer 200 with the whole file). */
  ignoreRange?: boolean;
}

export interface TestServer {
  url: string;
  requests: ServedRequest[];
  controls: ServerControls;
  close(): Promise<void>;
}

/** Serves files under `root` on 127.0.0.1 (random port). */
export async function serveFolder(root: string, controls: ServerControls = {}): Promise<TestServer> {
  const requests: ServedRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path));
    requests.push({ path, range: req.headers.range });
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    let body = readFileSync(file);
    if (controls.corrupt) {
      body = Buffer.from(body);
      const at = Math.floor(body.length / 2);
      body[at] = body[at]! ^ 0xff;
    }
    const total = body.length;
    let start = 0;
    const m = controls.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= total) {
        res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': total - start,
        'content-range': `bytes ${start}-${total - 1}/${total}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': total, 'accept-ranges': 'bytes' });
    }
    const rest = body.subarray(start);
    if (controls.cutAfter !== undefined && (controls.cutTimes ?? 1) > 0) {
      controls.cutTimes = (controls.cutTimes ?? 1) - 1;
      res.write(rest.subarray(0, controls.cutAfter), () => {
        // Give the bytes a moment to reach the client, then drop the connection mid-body.
        setTimeout(() => res.socket?.destroy(), 50);
      });
      return;
    }
    res.end(rest);
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    controls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A minimal zip writer (stored, no compression) for archive tests: name -> content. */
export function storedZip(files: Record<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
