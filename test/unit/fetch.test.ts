import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it, type TestContext } from 'node:test';
import { SourceStore } from '../../build/cache/source-store.js';
import { deb822Uris, FALLBACK_DEBIAN_ARCHIVE, hostDebianArchive } from '../../build/fetch/debian.js';
import { fetchSource, type FetchOptions } from '../../build/fetch/fetch-source.js';
import { candidateUrls } from '../../build/fetch/locations.js';
import type { Source } from '../../build/recipe/types.js';
import { HashMismatchError, ZosError } from '../../build/util/errors.js';
import { sha256 } from '../../build/util/hash.js';
import {
  dropMidBody,
  type Handler,
  sequence,
  serveBytes,
  stall,
  stallMidBody,
  status,
  TestHttpServer,
} from '../helpers/http-server.js';

const BODY = randomBytes(256 * 1024);
const SHA = sha256(BODY);
const WRONG = Buffer.from('not the file you pinned\n');
const FILE = 'pkg-1.0.tar.gz';
const RECIPE = 'pkg';

const scratch = await mkdtemp(join(tmpdir(), 'zos-fetch-test-'));
after(() => rm(scratch, { recursive: true, force: true }));
let dirs = 0;

/** A fresh, empty download cache. */
function newStore(): SourceStore {
  return new SourceStore(join(scratch, `cache-${++dirs}`));
}

/** Everything in the cache dir (final files and temp files alike). */
async function cacheEntries(store: SourceStore): Promise<string[]> {
  return (await readdir(store.dir).catch(() => [] as string[])).sort();
}

async function serve(t: TestContext, routes: Record<string, Handler>): Promise<TestHttpServer> {
  const server = await TestHttpServer.start(routes);
  t.after(() => server.close());
  return server;
}

function options(over: Partial<FetchOptions> = {}): FetchOptions {
  return {
    mirrors: [],
    debianArchive: 'http://127.0.0.1:9/debian',
    offline: false,
    attemptsPerUrl: 3,
    idleTimeoutMs: 2000,
    retryDelayMs: 1,
    ...over,
  };
}

function source(locations: string[], sha = SHA): Source {
  return { file: FILE, sha256: sha, locations };
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just free). */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('fetchSource', () => {
  it('downloads, verifies and caches a file under its sha256', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': serveBytes(BODY) });
    const store = newStore();
    const notes: string[] = [];
    const path = await fetchSource(
      RECIPE,
      source([`${server.url}/a/${FILE}`]),
      store,
      options({ note: (l) => notes.push(l) }),
    );
    assert.equal(path, store.pathOf(SHA));
    assert.deepEqual(await readFile(path), BODY);
    assert.deepEqual(await cacheEntries(store), [SHA]);
    assert.ok(notes.some((l) => l.includes(`verified ${FILE}`)));
    // Second call: served from the cache.
    assert.equal(await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options()), path);
    assert.equal(server.count(`/a/${FILE}`), 1);
  });

  it('tries the mirror first, then the locations in order; a 404 moves on without retrying', async (t) => {
    const server = await serve(t, { '/b/pkg-1.0.tar.gz': serveBytes(BODY) });
    const store = newStore();
    const path = await fetchSource(
      RECIPE,
      source([`${server.url}/a/${FILE}`, `${server.url}/b/${FILE}`, `${server.url}/c/${FILE}`]),
      store,
      options({ mirrors: [`${server.url}/mirror/`] }),
    );
    assert.deepEqual(await readFile(path), BODY);
    assert.deepEqual(server.requests, [`/mirror/${FILE}`, `/a/${FILE}`, `/b/${FILE}`]);
  });

  it('uses the mirror alone when it has the file', async (t) => {
    const server = await serve(t, { '/mirror/pkg-1.0.tar.gz': serveBytes(BODY) });
    await fetchSource(
      RECIPE,
      source([`${server.url}/a/${FILE}`]),
      newStore(),
      options({ mirrors: [`${server.url}/mirror`] }),
    );
    assert.deepEqual(server.requests, [`/mirror/${FILE}`]);
  });

  it('retries a 500 on the same URL', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': sequence(status(500), serveBytes(BODY)) });
    const store = newStore();
    const path = await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options());
    assert.deepEqual(await readFile(path), BODY);
    assert.equal(server.count(`/a/${FILE}`), 2);
    assert.deepEqual(await cacheEntries(store), [SHA]);
  });

  it('retries a body cut off mid-way, and never caches the partial file', async (t) => {
    const server = await serve(t, {
      '/a/pkg-1.0.tar.gz': sequence(dropMidBody(BODY), serveBytes(BODY)),
      '/always/pkg-1.0.tar.gz': dropMidBody(BODY),
    });
    const store = newStore();
    const path = await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options());
    assert.deepEqual(await readFile(path), BODY);
    assert.equal(server.count(`/a/${FILE}`), 2);

    const store2 = newStore();
    const err = await fetchSource(
      RECIPE,
      source([`${server.url}/always/${FILE}`]),
      store2,
      options({ attemptsPerUrl: 2 }),
    ).then(
      () => assert.fail('a truncated download must not succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ZosError);
    assert.match(err.message, new RegExp(`/always/${FILE}: .*after \\d+ of ${BODY.length} bytes \\(2 attempts\\)`));
    assert.equal(server.count(`/always/${FILE}`), 2);
    assert.deepEqual(await cacheEntries(store2), []);
  });

  it('fails on a hash mismatch, naming recipe, URL and both hashes, and caches nothing', async (t) => {
    const server = await serve(t, {
      '/bad/pkg-1.0.tar.gz': serveBytes(WRONG),
      '/good/pkg-1.0.tar.gz': serveBytes(BODY),
    });
    const store = newStore();
    const url = `${server.url}/bad/${FILE}`;
    const err = await fetchSource(RECIPE, source([url, `${server.url}/good/${FILE}`]), store, options()).then(
      () => assert.fail('wrong bytes must not be accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HashMismatchError);
    for (const part of [`recipe ${RECIPE}`, url, SHA, sha256(WRONG)])
      assert.ok(err.message.includes(part), `message names ${part}`);
    assert.equal(await store.has(SHA), false);
    assert.deepEqual(await cacheEntries(store), [], 'no file for the sha and no temp files');
    assert.equal(server.count(`/good/${FILE}`), 0, 'a mismatch is fatal, not a reason to try elsewhere');
  });

  it('gives up on a server that stalls before the headers or mid-body (idle timeout)', async (t) => {
    const server = await serve(t, { '/headers/pkg-1.0.tar.gz': stall(), '/body/pkg-1.0.tar.gz': stallMidBody(BODY) });
    const store = newStore();
    const started = Date.now();
    const err = await fetchSource(
      RECIPE,
      source([`${server.url}/headers/${FILE}`, `${server.url}/body/${FILE}`]),
      store,
      options({ idleTimeoutMs: 150, attemptsPerUrl: 1 }),
    ).then(
      () => assert.fail('a stalled download must not succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ZosError);
    assert.match(err.message, new RegExp(`/headers/${FILE}: no data for 150 ms`));
    assert.match(err.message, new RegExp(`/body/${FILE}: no data for 150 ms after \\d+ of ${BODY.length} bytes`));
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(await cacheEntries(store), []);
  });

  it('lists every URL with its reason when all locations fail', async (t) => {
    const server = await serve(t, { '/e500/pkg-1.0.tar.gz': status(500) });
    const dead = `${await deadUrl()}/x/${FILE}`;
    const urls = [
      `${server.url}/missing/${FILE}`,
      `${server.url}/e500/${FILE}`,
      dead,
      'ftp://example.invalid/pkg-1.0.tar.gz',
    ];
    const store = newStore();
    const err = await fetchSource(RECIPE, source(urls), store, options({ attemptsPerUrl: 2 })).then(
      () => assert.fail('expected failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ZosError);
    const lines = err.message.split('\n');
    assert.match(lines[0]!, new RegExp(`recipe ${RECIPE}: could not download ${FILE} \\(sha256 ${SHA}\\)`));
    assert.match(lines[1]!, new RegExp(`^  ${urls[0]}: HTTP 404`));
    assert.match(lines[2]!, new RegExp(`^  ${urls[1]}: HTTP 500 .*\\(2 attempts\\)`));
    assert.match(lines[3]!, new RegExp(`^  ${dead}: .*ECONNREFUSED.*\\(2 attempts\\)`));
    assert.match(lines[4]!, /^ {2}ftp:\/\/example\.invalid\/pkg-1\.0\.tar\.gz: unsupported URL scheme ftp:$/);
    assert.equal(server.count(`/missing/${FILE}`), 1, '404 is not retried');
    assert.equal(server.count(`/e500/${FILE}`), 2);
    assert.deepEqual(await cacheEntries(store), []);
  });

  it('offline with an empty cache fails naming recipe, file and sha, without any request', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': serveBytes(BODY) });
    const err = await fetchSource(
      RECIPE,
      source([`${server.url}/a/${FILE}`]),
      newStore(),
      options({ offline: true }),
    ).then(
      () => assert.fail('expected failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ZosError);
    for (const part of [`recipe ${RECIPE}`, FILE, SHA, '--offline'])
      assert.ok(err.message.includes(part), `message names ${part}`);
    assert.equal(server.requests.length, 0);
  });

  it('offline with the file cached returns it without any request', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': serveBytes(BODY) });
    const store = newStore();
    await mkdir(store.dir, { recursive: true });
    await writeFile(store.pathOf(SHA), BODY);
    const path = await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options({ offline: true }));
    assert.equal(path, store.pathOf(SHA));
    assert.equal(server.requests.length, 0);
  });

  it('an abort mid-body rejects with the abort reason and leaves nothing in the cache', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': stallMidBody(BODY) });
    const store = newStore();
    const ac = new AbortController();
    const reason = new Error('user pressed ^C');
    const err = await fetchSource(
      RECIPE,
      source([`${server.url}/a/${FILE}`]),
      store,
      options({ signal: ac.signal, onProgress: (_url, got) => got > 0 && ac.abort(reason) }),
    ).then(
      () => assert.fail('expected abort'),
      (e: unknown) => e,
    );
    assert.equal(err, reason);
    assert.equal(server.count(`/a/${FILE}`), 1, 'an abort is not retried');
    assert.deepEqual(await cacheEntries(store), []);
  });

  it('does not trust a stray temp file left by an interrupted download', async (t) => {
    const server = await serve(t, { '/a/pkg-1.0.tar.gz': serveBytes(BODY) });
    const store = newStore();
    await mkdir(store.dir, { recursive: true });
    const stray = `${SHA}.tmp-1-deadbeef`;
    await writeFile(join(store.dir, stray), BODY.subarray(0, 1000));
    await assert.rejects(
      fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options({ offline: true })),
      ZosError,
    );
    const path = await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`]), store, options());
    assert.deepEqual(await readFile(path), BODY);
    assert.equal(server.count(`/a/${FILE}`), 1);
  });

  it('asks for identity encoding, so the bytes hashed are the bytes served', async (t) => {
    // A misconfigured server that labels a gzip file as `Content-Encoding: gzip` when allowed to:
    // decoding it would hash the uncompressed bytes and fail the pin.
    const gz = gzipSync(BODY);
    const server = await serve(t, {
      '/a/pkg-1.0.tar.gz': (req, res) => {
        const headers: Record<string, string | number> = { 'content-length': gz.length };
        if (/gzip/.test(String(req.headers['accept-encoding'] ?? ''))) headers['content-encoding'] = 'gzip';
        res.writeHead(200, headers);
        res.end(gz);
      },
    });
    const path = await fetchSource(RECIPE, source([`${server.url}/a/${FILE}`], sha256(gz)), newStore(), options());
    assert.deepEqual(await readFile(path), gz);
  });

  it('resolves debian: locations against the archive base URL', async (t) => {
    const server = await serve(t, { '/debian/pool/main/p/pkg/pkg-1.0.tar.gz': serveBytes(BODY) });
    const path = await fetchSource(
      RECIPE,
      source([`debian:pool/main/p/pkg/${FILE}`]),
      newStore(),
      options({ debianArchive: `${server.url}/debian/` }),
    );
    assert.deepEqual(await readFile(path), BODY);
    assert.deepEqual(server.requests, [`/debian/pool/main/p/pkg/${FILE}`]);
  });
});

describe('candidateUrls', () => {
  it('puts mirrors first, resolves debian: and drops duplicates', () => {
    const urls = candidateUrls(
      source([
        'https://up.example/pkg-1.0.tar.gz',
        'debian:/pool/main/p/pkg/pkg-1.0.tar.gz',
        'https://m.example/pkg-1.0.tar.gz',
      ]),
      { mirrors: ['https://m.example/'], debianArchive: 'http://deb.example/debian/' },
    );
    assert.deepEqual(urls, [
      'https://m.example/pkg-1.0.tar.gz',
      'https://up.example/pkg-1.0.tar.gz',
      'http://deb.example/debian/pool/main/p/pkg/pkg-1.0.tar.gz',
    ]);
  });
});

describe('hostDebianArchive', () => {
  async function aptDir(files: Record<string, string>): Promise<string> {
    const dir = join(scratch, `apt-${++dirs}`);
    await mkdir(join(dir, 'sources.list.d'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  it('prefers the main archive of deb822 .sources files, skipping security and disabled stanzas', async () => {
    const dir = await aptDir({
      'sources.list.d/debian.sources': [
        '# security first, on purpose',
        'Types: deb',
        'URIs: http://security.debian.org/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://disabled.example/debian',
        'Suites: bookworm',
        'Enabled: no',
        '',
        'types: deb deb-src',
        'uris: http://127.0.0.1:3142/debian/ http://other.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
      ].join('\n'),
      'sources.list': 'deb http://listed.example/debian bookworm main\n',
    });
    assert.equal(await hostDebianArchive(dir), 'http://127.0.0.1:3142/debian');
  });

  it('falls back to a one-line sources.list, with options and comments', async () => {
    const dir = await aptDir({
      'sources.list': [
        '# deb http://commented.example/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://security.debian.org/debian-security bookworm-security main',
        'deb [arch=amd64] http://mirror.example/debian/ bookworm main',
        '',
      ].join('\n'),
    });
    assert.equal(await hostDebianArchive(dir), 'http://mirror.example/debian');
  });

  it('ignores other distributions and falls back to deb.debian.org', async () => {
    const dir = await aptDir({ 'sources.list': 'deb http://archive.ubuntu.com/ubuntu noble main\n' });
    assert.equal(await hostDebianArchive(dir), FALLBACK_DEBIAN_ARCHIVE);
    assert.equal(await hostDebianArchive(join(scratch, 'no-such-apt-dir')), FALLBACK_DEBIAN_ARCHIVE);
  });

  it('accepts a snapshot.debian.org archive', async () => {
    const dir = await aptDir({
      'sources.list': 'deb http://snapshot.debian.org/archive/debian/20240101T000000Z bookworm main\n',
    });
    assert.equal(await hostDebianArchive(dir), 'http://snapshot.debian.org/archive/debian/20240101T000000Z');
  });

  it('parses deb822 field names case-insensitively, continuation lines, and skips deb-less stanzas', () => {
    assert.deepEqual(
      deb822Uris('Types: foo\nURIs: http://x.example/debian\n\nTYPES: deb\nURIS: http://y.example/debian\n'),
      ['http://y.example/debian'],
    );
    assert.deepEqual(
      deb822Uris('Types: deb\nURIs: http://a.example/debian\n  http://b.example/debian\nSuites: bookworm\n'),
      ['http://a.example/debian', 'http://b.example/debian'],
    );
  });

  it('feeds fetchSource: a debian: location is downloaded from the host archive', async (t) => {
    const server = await serve(t, { '/debian/pool/main/p/pkg/pkg-1.0.tar.gz': serveBytes(BODY) });
    const dir = await aptDir({
      'sources.list.d/debian.sources': `Types: deb\nURIs: ${server.url}/debian\nSuites: bookworm\nComponents: main\n`,
    });
    const archive = await hostDebianArchive(dir);
    assert.equal(archive, `${server.url}/debian`);
    const path = await fetchSource(
      RECIPE,
      source([`debian:pool/main/p/pkg/${FILE}`]),
      newStore(),
      options({ debianArchive: archive }),
    );
    assert.deepEqual(await readFile(path), BODY);
  });
});
