import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Handles one request. `n` counts this route's requests, starting at 1. */
export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/**
 * A real HTTP server on 127.0.0.1 with a fixed route table, for tests of code that downloads.
 * Records every request path so tests can assert what was (not) asked for. Unknown paths get 404.
 */
export class TestHttpServer {
  /** Paths requested, in order (with query strings). */
  readonly requests: string[] = [];
  private readonly counts = new Map<string, number>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  private constructor(private readonly routes: Record<string, Handler>) {}

  static async start(routes: Record<string, Handler>): Promise<TestHttpServer> {
    const s = new TestHttpServer(routes);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, '127.0.0.1', () => resolve());
    });
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>` (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many requests a path received. */
  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  /** Stops listening and cuts every open connection (stalled responses included). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push(path);
    const n = (this.counts.get(path) ?? 0) + 1;
    this.counts.set(path, n);
    const route = this.routes[path];
    if (route) route(req, res, n);
    else status(404)(req, res, n);
  }
}

/** 200 with these bytes and a correct Content-Length. */
export function serveBytes(body: Buffer): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };
}

/** An empty response with this status. */
export function status(code: number): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-length': 0 });
    res.end();
  };
}

/** The n-th request gets the n-th handler; the last one answers every request after that. */
export function sequence(...handlers: Handler[]): Handler {
  return (req, res, n) => handlers[Math.min(n, handlers.length) - 1]!(req, res, n);
}

/** Announces the full Content-Length, sends the first half of the body, then cuts the connection. */
export function dropMidBody(body: Buffer): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
      // After the bytes are flushed, so the client sees a short body rather than a reset.
      setTimeout(() => res.socket?.destroy(), 20);
    });
  };
}

/**
 * Announces the full Content-Length, sends `sentBytes` of it, then sends nothing more (the
 * connection stays open until the client gives up or the server closes).
 */
export function stallMidBody(body: Buffer, sentBytes = Math.floor(body.length / 2)): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.write(body.subarray(0, sentBytes));
  };
}

/** Never answers at all (not even headers). */
export function stall(): Handler {
  return () => {};
}
