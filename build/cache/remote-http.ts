import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';

/**
 * The few HTTP calls the remote step cache makes, on node:http rather than fetch: the bytes are
 * hashed exactly as stored (no transparent decoding) and uploads carry a Content-Length, which
 * plain WebDAV-ish servers (nginx `dav_methods PUT`) handle best.
 */

export interface CallOptions {
  /** Give up after this long without any progress (connecting, sending or receiving). */
  timeoutMs: number;
}

type Body = { buffer: Buffer } | { file: string };

/** Sends one request; resolves with the response (body unread). Rejects on network errors and timeouts. */
async function send(method: string, url: string, opts: CallOptions, body?: Body): Promise<IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported URL scheme ${u.protocol}`);
  const length = body === undefined ? undefined : 'buffer' in body ? body.buffer.length : (await stat(body.file)).size;
  const reqOpts: RequestOptions = {
    method,
    timeout: opts.timeoutMs,
    // One connection per call: nothing pooled keeps the process alive after a build.
    agent: false,
    headers: length === undefined ? {} : { 'content-length': length, 'content-type': 'application/octet-stream' },
  };
  const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, reqOpts);
  return new Promise<IncomingMessage>((resolve, reject) => {
    // The socket timeout keeps running while the caller reads the body, so a stall there fails too.
    req.on('timeout', () => req.destroy(new Error(`no progress for ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', resolve);
    if (body === undefined) req.end();
    else if ('buffer' in body) req.end(body.buffer);
    else pipeline(createReadStream(body.file), req).catch((err: unknown) => req.destroy(err as Error));
  });
}

/** Reads and discards a response body, so the connection closes cleanly. */
async function drain(res: IncomingMessage): Promise<void> {
  res.resume();
  await new Promise<void>((resolve) => {
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', () => resolve());
  });
}

/** GET of a small document. Bodies over `maxBytes` are refused (a cache entry's metadata is tiny). */
export async function getSmall(
  url: string,
  maxBytes: number,
  opts: CallOptions,
): Promise<{ status: number; body: Buffer }> {
  const res = await send('GET', url, opts);
  if (res.statusCode !== 200) {
    await drain(res);
    return { status: res.statusCode ?? 0, body: Buffer.alloc(0) };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw new Error(`${url}: more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return { status: 200, body: Buffer.concat(chunks) };
}

export type FileDownload = { status: number } & ({ ok: false } | { ok: true; sha256: string; size: number });

/**
 * GET into `dest` (created or truncated), hashing on the way. Stops reading once `maxBytes` is
 * exceeded: the caller knows the expected size, and a bigger body is wrong anyway. The reported size
 * then is `maxBytes + 1` or more. `dest` is closed when this returns or throws.
 */
export async function getToFile(url: string, dest: string, maxBytes: number, opts: CallOptions): Promise<FileDownload> {
  const res = await send('GET', url, opts);
  if (res.statusCode !== 200) {
    await drain(res);
    return { status: res.statusCode ?? 0, ok: false };
  }
  const file = await open(dest, 'w');
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        break;
      }
      hash.update(chunk);
      await file.write(chunk);
    }
    return { status: 200, ok: true, sha256: hash.digest('hex'), size };
  } finally {
    await file.close();
  }
}

/** PUT of a buffer or a file's contents; resolves with the status code. */
export async function put(url: string, body: Body, opts: CallOptions): Promise<number> {
  const res = await send('PUT', url, opts, body);
  await drain(res);
  return res.statusCode ?? 0;
}
