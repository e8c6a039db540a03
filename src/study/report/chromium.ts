/**
 * Headless Chromium for screenshots of the HTML report (the plots' PNGs come from raster.ts, in-process).
 *
 * It speaks the DevTools protocol over `--remote-debugging-pipe` (NUL-terminated JSON on fds 3/4),
 * which needs no port, no WebSocket and no npm dependency; only the handful of commands used here.
 * Chromium runs with the flags this machine needs (no sandbox as root, no background networking on
 * a closed network) and a fresh temporary profile, removed on close.
 *
 * When no Chromium is installed, {@link findChromium} returns null and {@link Chromium.launch} throws
 * {@link RasterizerUnavailableError}; callers that can do without screenshots catch it and say so.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

/** Thrown when no rasteriser can run (no Chromium executable, or resvg's binary missing). */
export class RasterizerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RasterizerUnavailableError';
  }
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/**
 * The Chromium executable to use: `$LION_CHROMIUM` if set (an empty value disables Chromium), else
 * the first executable of the usual Debian / Ubuntu / Google paths; null when none.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const forced = env['LION_CHROMIUM'];
  if (forced !== undefined) return forced === '' || !isExecutable(forced) ? null : forced;
  return CANDIDATES.find(isExecutable) ?? null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Flags for headless use on a locked-down machine (see /work/.library/env/machines/node.md). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--mute-audio',
];

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface ScreenshotOptions {
  /** CSS viewport width in px (default 1280). */
  width?: number;
  /** Viewport height; the screenshot still covers the whole page (default 800). */
  height?: number;
  /** Device pixels per CSS px (default 1). */
  scale?: number;
  /** Capture the full scrollable page rather than the viewport (default true). */
  fullPage?: boolean;
  /** Crop: start this many CSS px down the page (default 0). */
  top?: number;
  /** Crop: at most this many CSS px tall. */
  maxHeight?: number;
}

/** One running headless Chromium with one page; reuse it for many renders, then {@link close}. */
export class Chromium {
  private readonly proc: ChildProcess;
  private readonly profile: string;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: CdpMessage) => void>();
  private stderrTail = '';
  private exited: Error | null = null;
  private sessionId = '';

  private constructor(
    executable: string,
    private readonly timeoutMs: number,
  ) {
    this.profile = mkdtempSync(join(tmpdir(), 'lion-chromium-'));
    this.proc = spawn(
      executable,
      [...CHROMIUM_FLAGS, `--user-data-dir=${this.profile}`, '--remote-debugging-pipe', 'about:blank'],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      },
    );
    let buf = Buffer.alloc(0);
    const out = this.proc.stdio[4] as Readable;
    out.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0)) {
        const msg = JSON.parse(buf.subarray(0, i).toString('utf8')) as CdpMessage;
        buf = buf.subarray(i + 1);
        this.dispatch(msg);
      }
    });
    // Chromium logs harmless D-Bus errors here; keep only the tail, for error messages
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000);
    });
    const fail = (e: Error): void => {
      this.exited ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.proc.on('error', (e) => fail(new Error(`chromium failed to start: ${e.message}`)));
    this.proc.on('exit', (code, signal) =>
      fail(new Error(`chromium exited (code ${code}, signal ${signal}); stderr tail:\n${this.stderrTail}`)),
    );
  }

  /** Starts Chromium (found by {@link findChromium} unless given) and opens a page. */
  static async launch(options: { executable?: string; timeoutMs?: number } = {}): Promise<Chromium> {
    const exe = options.executable ?? findChromium();
    if (exe === null)
      throw new RasterizerUnavailableError(
        'no Chromium found (looked at $LION_CHROMIUM and /usr/bin/chromium*); install Debian package `chromium`',
      );
    const c = new Chromium(exe, options.timeoutMs ?? 60_000);
    try {
      const target = await c.send('Target.createTarget', { url: 'about:blank' });
      const attached = await c.send('Target.attachToTarget', { targetId: target['targetId'], flatten: true });
      c.sessionId = String(attached['sessionId']);
      await c.send('Page.enable', {}, true);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  private dispatch(msg: CdpMessage): void {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (p === undefined) return;
      if (msg.error !== undefined) p.reject(new Error(`chromium: ${msg.error.message}`));
      else p.resolve(msg);
      return;
    }
    for (const l of this.listeners) l(msg);
  }

  private send(method: string, params: Record<string, unknown> = {}, onPage = false): Promise<Record<string, unknown>> {
    if (this.exited !== null) return Promise.reject(this.exited);
    const id = ++this.nextId;
    const message: CdpMessage = { id, method, params };
    if (onPage) message.sessionId = this.sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`chromium: ${method} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (m) => (clearTimeout(timer), resolve(m.result ?? {})),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      (this.proc.stdio[3] as Writable).write(JSON.stringify(message) + '\0');
    });
  }

  private waitFor(method: string): Promise<void> {
    return new Promise((resolve) => {
      const l = (m: CdpMessage): void => {
        if (m.method === method && m.sessionId === this.sessionId) {
          this.listeners.delete(l);
          resolve();
        }
      };
      this.listeners.add(l);
    });
  }

  /** Loads a URL (file:// for local files) at the given viewport and waits for its load event. */
  async load(url: string, width: number, height: number, scale = 1): Promise<void> {
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: scale, mobile: false },
      true,
    );
    const loaded = this.waitFor('Page.loadEventFired');
    await this.send('Page.navigate', { url }, true);
    await loaded;
  }

  /** A PNG of the loaded page: the viewport, or the whole page when `fullPage`, optionally cropped. */
  async capture(
    width: number,
    height: number,
    fullPage: boolean,
    scale = 1,
    top = 0,
    maxHeight = Infinity,
  ): Promise<Buffer> {
    let h = height;
    if (fullPage) {
      const metrics = await this.send('Page.getLayoutMetrics', {}, true);
      const size = metrics['cssContentSize'] as { height: number } | undefined;
      h = Math.max(height, Math.ceil(size?.height ?? height));
    }
    h = Math.max(1, Math.min(h - top, maxHeight));
    const shot = await this.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: fullPage, clip: { x: 0, y: top, width, height: h, scale } },
      true,
    );
    return Buffer.from(String(shot['data']), 'base64');
  }

  /** Evaluates a JavaScript expression in the page and returns its JSON value (for tests). */
  async evaluate(expression: string): Promise<unknown> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true }, true);
    return (r['result'] as { value?: unknown } | undefined)?.value;
  }

  /** Screenshot of an HTML file, full page by default. */
  async screenshot(htmlFile: string, options: ScreenshotOptions = {}): Promise<Buffer> {
    const width = options.width ?? 1280;
    const height = options.height ?? 800;
    const scale = options.scale ?? 1;
    await this.load(pathToFileURL(htmlFile).href, width, height, scale);
    return this.capture(
      width,
      height,
      options.fullPage ?? true,
      scale,
      options.top ?? 0,
      options.maxHeight ?? Infinity,
    );
  }

  /** Closes the browser and removes its temporary profile. */
  async close(): Promise<void> {
    if (this.exited === null) {
      const exit = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      this.send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/**
 * Screenshot of an HTML file (full page, 1280 px wide by default) with a throwaway Chromium.
 * @throws RasterizerUnavailableError when no Chromium is installed.
 */
export async function screenshotHtml(htmlFile: string, options: ScreenshotOptions = {}): Promise<Buffer> {
  const c = await Chromium.launch();
  try {
    return await c.screenshot(htmlFile, options);
  } finally {
    await c.close();
  }
}
