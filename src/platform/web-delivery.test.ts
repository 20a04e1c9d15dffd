import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, testConfig, type TestDb } from '../test/harness.ts';
import { TestClock } from './clock.ts';
import { buildServer, type FolioApp } from './server.ts';

/** The web app as `npm ci` builds it (package.json `prepare`: vite build). */
const BUILT = path.resolve('dist/web');

function builtFiles(): string[] {
  expect(fs.existsSync(path.join(BUILT, 'index.html')), 'dist/web is built by npm ci (vite build)').toBe(true);
  return fs.readdirSync(BUILT, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(BUILT, path.join(e.parentPath, e.name)));
}

/** The chunks a built script imports statically (loaded with it), as Vite writes them: `from"./name.js"` / `import"./name.js"`. */
function staticImports(chunk: string): string[] {
  const code = fs.readFileSync(path.join(BUILT, 'assets', chunk), 'utf8');
  return [...code.matchAll(/(?:from|import)\s*["']\.\/([\w.-]+\.js)["']/g)].map((m) => m[1]!);
}

/** Every chunk loaded before a page of an area can show: the entry's static closure, and the area chunk's. */
function loadedWith(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const chunk = queue.pop()!;
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    queue.push(...staticImports(chunk));
  }
  return seen;
}

describe('the built web app', () => {
  it('publishes the built page and its assets only: no source file of web/ (web/public is not a static folder)', () => {
    const files = builtFiles();
    expect(files).toContain('index.html');
    const others = files.filter((f) => !/^index\.html(\.br|\.gz)?$/.test(f) && !f.startsWith(`assets${path.sep}`));
    expect(others).toEqual([]);
    expect(files.filter((f) => /\.(tsx?|map)(\.(br|gz))?$/.test(f))).toEqual([]);
  });

  it('has a Brotli and a gzip copy of every script and style sheet of 1 KB or more, each the same bytes once decoded', () => {
    const files = builtFiles();
    const large = files.filter((f) => /\.(js|css)$/.test(f) && fs.statSync(path.join(BUILT, f)).size >= 1024);
    expect(large.length).toBeGreaterThan(3);
    for (const f of large) {
      const original = fs.readFileSync(path.join(BUILT, f));
      expect(zlib.brotliDecompressSync(fs.readFileSync(path.join(BUILT, `${f}.br`))).equals(original), `${f}.br`).toBe(true);
      expect(zlib.gunzipSync(fs.readFileSync(path.join(BUILT, `${f}.gz`))).equals(original), `${f}.gz`).toBe(true);
    }
  });

  it('loads a customer\'s portal without the admin apps, the operator\'s pages or the chart library, each a chunk of its own', () => {
    const files = builtFiles().filter((f) => f.startsWith(`assets${path.sep}`)).map((f) => path.basename(f));
    const html = fs.readFileSync(path.join(BUILT, 'index.html'), 'utf8');
    const entry = /<script type="module" crossorigin src="\/assets\/([\w.-]+\.js)"/.exec(html)?.[1];
    expect(entry, 'index.html loads one entry script').toBeTruthy();
    const chunk = (prefix: string) => {
      const found = files.find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.js'));
      expect(found, `a ${prefix} chunk`).toBeTruthy();
      return found!;
    };
    const portal = loadedWith([entry!, chunk('PortalRoutes')]);
    expect(portal.has(chunk('AdminRoutes'))).toBe(false);
    expect(portal.has(chunk('OperatorRoutes'))).toBe(false);
    expect([...portal].filter((c) => c.startsWith('BarChart-') || c.startsWith('UsageChart-'))).toEqual([]);
    // The admin apps load the chart library with them (the dashboard and the reports show charts at once).
    expect(loadedWith([entry!, chunk('AdminRoutes')]).has(chunk('BarChart'))).toBe(true);
  });
});

describe('the server sends the web app', () => {
  let db: TestDb;
  let app: FolioApp;
  let dist: string;
  const script = 'console.log("a built script, long enough to be worth compressing");\n'.repeat(40);

  beforeAll(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-web-'));
    fs.mkdirSync(path.join(dist, 'assets'));
    const page = `<!doctype html><title>Folio</title><script type="module" src="/assets/index-AbC123.js"></script>${'<!-- padding -->'.repeat(80)}`;
    fs.writeFileSync(path.join(dist, 'index.html'), page);
    fs.writeFileSync(path.join(dist, 'index.html.br'), zlib.brotliCompressSync(page));
    fs.writeFileSync(path.join(dist, 'assets', 'index-AbC123.js'), script);
    fs.writeFileSync(path.join(dist, 'assets', 'index-AbC123.js.br'), zlib.brotliCompressSync(script));
    fs.writeFileSync(path.join(dist, 'assets', 'index-AbC123.js.gz'), zlib.gzipSync(script));
    db = await createTestDb();
    app = await buildServer({ config: testConfig(), db: db.app.db, log: pino({ level: 'silent' }), clock: new TestClock(), webDistDir: dist });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('sends a script compressed as the browser accepts (Brotli first, then gzip), and plain to one that accepts neither', async () => {
    const br = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers.vary).toContain('accept-encoding');
    expect(zlib.brotliDecompressSync(br.rawPayload).toString()).toBe(script);

    const gz = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.rawPayload).toString()).toBe(script);

    const plain = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
  });

  it('lets browsers keep the hashed assets for a year, and makes them ask again for the page that names them', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/', '/portal', '/admin/customer', '/login']) {
      const page = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip' } });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toContain('text/html');
      expect(page.headers['cache-control'], url).toBe('no-cache');
      expect(page.headers['content-encoding'], url).toBe('br');
      expect(zlib.brotliDecompressSync(page.rawPayload).toString(), url).toContain('<title>Folio</title>');
    }
  });

  it('answers an address of no file with the app\'s page (its router shows "not found"), and an API address with a problem', async () => {
    const source = await app.inject({ method: 'GET', url: '/LoginPage.tsx' });
    expect(source.headers['content-type']).toContain('text/html');
    expect(source.body).toContain('<title>Folio</title>');
    // The compressed copies go out only in place of their file, with its type and encoding: never as files of their own.
    for (const copy of ['/assets/index-AbC123.js.br', '/assets/index-AbC123.js.gz', '/index.html.br']) {
      const direct = await app.inject({ method: 'GET', url: copy, headers: { 'accept-encoding': 'identity' } });
      expect(direct.headers['content-type'], copy).toContain('text/html');
      expect(direct.body, copy).toContain('<title>Folio</title>');
    }
    const api = await app.inject({ method: 'GET', url: '/api/v1/no-such-thing' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
  });
});
