import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Respond = (req: Received, res: ServerResponse, n: number) => void | Promise<void>;

/**
 * A real HTTP receiver on loopback that records every request. `respond`
 * decides the answer (default 200 "ok"); `n` counts requests to the same path.
 */
export class Receiver {
  readonly received: Received[] = [];
  /** TCP connections accepted so far (a sender that reuses its keep-alive connections opens few). */
  connectionsAccepted = 0;
  private server: Server;
  /** Responses kept open by `hang`, ended by `release` (or `close`). */
  private readonly hung: ServerResponse[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  respond: Respond = (_r, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(r);
        const n = this.received.filter((x) => x.path === r.path).length;
        Promise.resolve(this.respond(r, res, n)).catch(() => res.destroy());
        this.check();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', () => this.connectionsAccepted++);
  }

  /** Listens on 127.0.0.1, on `port` (Default: 0, any free port). */
  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /**
   * Never answers requests to `path` (to every path when omitted): their
   * responses stay open, so the sender's requests wait, until `release`.
   * Other paths get 200.
   */
  hang(path?: string): this {
    this.respond = (r, res) => {
      if (path === undefined || r.path === path) this.hung.push(res);
      else res.writeHead(200).end();
    };
    return this;
  }

  /** Drops the connections of the requests `hang` kept waiting: each of their senders sees a reset. */
  release(): void {
    for (const res of this.hung.splice(0)) res.destroy();
  }

  /** Resolves once `pred` holds, or rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: () => { clearTimeout(t); resolve(); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received ${this.received.length})`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  waitForCount(path: string, n: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.at(path).length >= n, timeoutMs, `${n} requests on ${path}`);
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (w.pred()) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
