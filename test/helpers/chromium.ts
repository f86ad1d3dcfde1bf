import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

export const chromiumSkipReason = (): string | undefined =>
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not installed (see ci/install-host-deps)`;

/**
 * A listener on 127.0.0.1 given to the browser as its proxy: any request the page would make over
 * the network arrives here and is counted (and refused).
 */
export class NetworkTrap {
  connections = 0;
  /** The first line of each request (`CONNECT host:443 HTTP/1.1`, `GET http://... HTTP/1.1`). */
  readonly requests: string[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<NetworkTrap> {
    let trap: NetworkTrap | undefined;
    const server = createServer((s) => {
      trap!.connections++;
      s.once('data', (d: Buffer) => {
        trap!.requests.push(d.toString('latin1').split('\r\n')[0]!);
        s.destroy();
      });
      s.setTimeout(2000, () => s.destroy());
    });
    trap = new NetworkTrap(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return trap;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Requests other than chromium's own background traffic to Google's update and account services. */
  pageRequests(): string[] {
    return this.requests.filter(
      (r) => !/^\S+ (https?:\/\/)?[^/ ]*\.(google\.com|googleapis\.com|gvt1\.com)[:/ ]/.test(r),
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The page as Debian's chromium renders it, headless: the DOM after parsing (and any script). */
export async function renderedDom(file: string, trap: NetworkTrap): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'zos-chromium-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(
        CHROMIUM,
        [
          '--headless',
          '--disable-gpu',
          '--no-sandbox',
          '--no-first-run',
          // Chromium's own background traffic (updates, safe browsing...) would hide the page's.
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-domain-reliability',
          '--disable-client-side-phishing-detection',
          '--no-pings',
          '--disable-features=OptimizationHints,MediaRouter',
          `--user-data-dir=${profile}`,
          `--proxy-server=http://127.0.0.1:${trap.port}`,
          '--proxy-bypass-list=<-loopback>',
          '--dump-dom',
          `file://${file}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0 && out.includes('</html>')) resolve(out);
        else reject(new Error(`chromium exited ${code}:\n${err.slice(-2000)}`));
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
