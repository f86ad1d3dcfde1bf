import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const NGINX_BIN = '/usr/sbin/nginx';

/** Why nginx tests must be skipped, or undefined when nginx is there. CI installs nginx-light. */
export function nginxSkipReason(): string | undefined {
  return existsSync(NGINX_BIN) ? undefined : `${NGINX_BIN} not found (install nginx-light, see ci/install-host-deps)`;
}

export interface NginxOptions {
  /** Accept PUT/DELETE uploads under `/` (WebDAV module). Default true. */
  davPut?: boolean;
  /** Extra directives inside the `server {}` block. */
  serverConfig?: string;
}

/**
 * A private nginx on 127.0.0.1 for tests: its own prefix dir for config, logs, temp files and the
 * document root (`root`), in the foreground as a child of the test, one process (no master).
 */
export class NginxServer {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    /** Prefix dir holding nginx.conf, error.log, access.log and temp dirs. */
    readonly dir: string,
    /** Document root: files PUT to `/x` land at `<root>/x`. */
    readonly root: string,
    readonly port: number,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  /** `http://127.0.0.1:<port>` (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(opts: NginxOptions = {}): Promise<NginxServer> {
    const reason = nginxSkipReason();
    if (reason) throw new Error(reason);
    const dir = await mkdtemp(join(tmpdir(), 'zos-nginx-'));
    const root = join(dir, 'www');
    await mkdir(root);
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
      await mkdir(join(dir, 'tmp', t), { recursive: true });
    // A port that was free a moment ago can be taken before nginx binds it: try a few.
    let lastError = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      await writeFile(join(dir, 'nginx.conf'), config(dir, root, port, opts));
      await rm(join(dir, 'error.log'), { force: true });
      const child = spawn(NGINX_BIN, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const server = new NginxServer(child, dir, root, port);
      if (await server.waitReady()) return server;
      await server.stop({ keepDir: true });
      lastError = `${stderr}${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`;
      if (!/Address already in use/.test(lastError)) break;
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start:\n${lastError}`);
  }

  /** Lines of the access log (`METHOD /path STATUS`), to check what clients asked for. */
  async accessLog(): Promise<string[]> {
    const text = await readFile(join(this.dir, 'access.log'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean);
  }

  /** Stops nginx and, unless `keepDir`, deletes its directory (document root included). */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const killed = await Promise.race([
        gone.then(() => true),
        sleep(3000, undefined, { ref: false }).then(() => false),
      ]);
      if (!killed) {
        this.child.kill('SIGKILL');
        await gone;
      }
    }
    if (!opts.keepDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Waits until the port accepts connections; false if nginx exits first or takes too long. */
  private async waitReady(): Promise<boolean> {
    for (let i = 0; i < 100 && !this.exited; i++) {
      if (await canConnect(this.port)) return !this.exited;
      await sleep(50);
    }
    return false;
  }
}

function config(dir: string, root: string, port: number, opts: NginxOptions): string {
  const dav = opts.davPut ?? true;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  log_format plain '$request_method $uri $status';
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  client_max_body_size 0;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    access_log ${dir}/access.log plain;
    location / {
${dav ? '      dav_methods PUT DELETE;\n      create_full_put_path on;\n      dav_access user:rw group:r all:r;\n' : ''}    }
${opts.serverConfig ?? ''}
  }
}
`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
