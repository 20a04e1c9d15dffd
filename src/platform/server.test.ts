import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestAppWithGateway, DEMO_PASSWORD, createTestDb, signIn, testConfig, type Session, type TestAppWithGateway, type TestDb } from '../test/harness.ts';
import { TestClock } from './clock.ts';
import { buildServer, trustProxyOf, type FolioApp } from './server.ts';

/** A server whose log lines are kept in memory, parsed (TRUST_PROXY as given while it is built). */
async function serverWithLog(db: TestDb, secureCookies: boolean, trustProxy?: string): Promise<{ app: FolioApp; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const before = process.env.TRUST_PROXY;
  if (trustProxy === undefined) delete process.env.TRUST_PROXY;
  else process.env.TRUST_PROXY = trustProxy;
  try {
    const app = await buildServer({ config: testConfig({ secureCookies }), db: db.app.db, log: pino({ level: 'info' }, sink), clock: new TestClock() });
    await app.ready();
    return { app, lines };
  } finally {
    if (before === undefined) delete process.env.TRUST_PROXY;
    else process.env.TRUST_PROXY = before;
  }
}

describe('TRUST_PROXY', () => {
  it('reads true as one proxy hop, a number as that many, a comma list as those addresses; unset or false as none', () => {
    expect(trustProxyOf(undefined)).toBe(false);
    expect(trustProxyOf('')).toBe(false);
    expect(trustProxyOf('false')).toBe(false);
    expect(trustProxyOf('0')).toBe(false);
    const one = trustProxyOf('true') as (address: string, hop: number) => boolean;
    expect([one('10.0.0.1', 0), one('6.6.6.6', 1)]).toEqual([true, false]);
    const two = trustProxyOf('2') as (address: string, hop: number) => boolean;
    expect([two('10.0.0.1', 0), two('10.0.0.2', 1), two('6.6.6.6', 2)]).toEqual([true, true, false]);
    expect(trustProxyOf('10.0.0.0/8, 127.0.0.1')).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('takes the client’s IP from the hop the trusted proxy appended, never from what the client wrote into X-Forwarded-For', async () => {
    const db = await createTestDb();
    const servers = [];
    for (const trust of ['true', '2', '127.0.0.1', undefined]) servers.push(await serverWithLog(db, false, trust));
    try {
      const ipSeen = async (s: { app: FolioApp; lines: Array<Record<string, unknown>> }) => {
        s.lines.length = 0;
        await s.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-for': '6.6.6.6, 10.0.0.1' } });
        return (s.lines.find((l) => l.msg === 'request completed')!.req as { remoteAddress: string }).remoteAddress;
      };
      // The proxy (127.0.0.1, app.inject's address) appended 10.0.0.1; 6.6.6.6 is what the client sent itself.
      expect(await ipSeen(servers[0]!)).toBe('10.0.0.1');
      expect(await ipSeen(servers[1]!)).toBe('6.6.6.6'); // two proxies: the first one's word is believed too
      expect(await ipSeen(servers[2]!)).toBe('10.0.0.1');
      expect(await ipSeen(servers[3]!)).toBe('127.0.0.1');
    } finally {
      await Promise.all(servers.map((s) => s.app.close()));
      await db.drop();
    }
  });
});

describe('every response', () => {
  let db: TestDb;
  let plain: Awaited<ReturnType<typeof serverWithLog>>;
  let secure: Awaited<ReturnType<typeof serverWithLog>>;
  beforeAll(async () => {
    db = await createTestDb();
    [plain, secure] = await Promise.all([serverWithLog(db, false), serverWithLog(db, true)]);
  });
  afterAll(async () => {
    await Promise.all([plain.app.close(), secure.app.close()]);
    await db.drop();
  });

  it('carries the security headers: our content security policy, no sniffing, no framing by others; HSTS and the upgrade of insecure requests only over HTTPS', async () => {
    for (const url of ['/healthz', '/api/v1/auth/session', '/api/v1/no-such-route']) {
      const res = await plain.app.inject({ method: 'GET', url });
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("img-src 'self' data:");
      expect(res.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toBeUndefined();
      // Over plain HTTP the page's own scripts and styles must not be asked for over HTTPS (a blank page).
      expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    }
    const overHttps = await secure.app.inject({ method: 'GET', url: '/healthz' });
    expect(overHttps.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(overHttps.headers['content-security-policy']).toContain("default-src 'self'");
    expect(overHttps.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });

  it('is logged once, when it completes: method, URL, status, response time and request id in one line', async () => {
    plain.lines.length = 0;
    await plain.app.inject({ method: 'GET', url: '/healthz' });
    const missing = await plain.app.inject({ method: 'GET', url: '/api/v1/invoices/inv_nope' });
    expect(missing.statusCode).toBe(401);
    const access = plain.lines.filter((l) => l.reqId !== undefined && (l.msg === 'request completed' || l.msg === 'incoming request'));
    expect(access).toHaveLength(2);
    expect(access.map((l) => l.msg)).toEqual(['request completed', 'request completed']);
    expect(access[0]).toMatchObject({ level: 30, req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 } });
    expect(access[1]).toMatchObject({ req: { method: 'GET', url: '/api/v1/invoices/inv_nope' }, res: { statusCode: 401 } });
    for (const line of access) {
      expect(typeof line.responseTime).toBe('number');
      expect(line.reqId).toMatch(/^req_/);
    }
    expect(access[0]!.reqId).not.toBe(access[1]!.reqId);
  });

  it('never writes the secret of a link to the log: an invitation token in the path, a reset or verification token in the query', async () => {
    plain.lines.length = 0;
    const secret = 'Zq8Yc1Sx0Ls2Kt3Vu4Wi5Oo6Pn7Mm';
    const urls = [
      `/api/v1/auth/invitations/${secret}`,
      `/reset-password?token=${secret}`,
      `/verify-email?lang=en&token=${secret}`,
      `/api/v1/auth/invitations/${secret}?x=1`,
    ];
    for (const url of urls) await plain.app.inject({ method: 'GET', url });
    const access = plain.lines.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(urls.length);
    for (const line of plain.lines) expect(JSON.stringify(line)).not.toContain(secret);
    expect(access.map((l) => (l.req as { url: string }).url)).toEqual([
      '/api/v1/auth/invitations/••••••',
      '/reset-password?token=••••••',
      '/verify-email?lang=en&token=••••••',
      '/api/v1/auth/invitations/••••••?x=1',
    ]);
    // Other URLs are logged as they came, the accept route's name too.
    plain.lines.length = 0;
    await plain.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: {} });
    await plain.app.inject({ method: 'GET', url: '/api/v1/customers?q=tokens' });
    expect(plain.lines.filter((l) => l.msg === 'request completed').map((l) => (l.req as { url: string }).url))
      .toEqual(['/api/v1/auth/invitations/accept', '/api/v1/customers?q=tokens']);
  });
});

describe('API answers and caches', () => {
  let t: TestAppWithGateway;
  let owner: Session;
  beforeAll(async () => {
    t = await createTestAppWithGateway();
    owner = await signIn(t, 'owner@acme.test');
    // A card top-up: the owner's organisation then has a paid Top-up invoice (with its PDF) and a transaction.
    const topUp = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '25.00', cardToken: 'tok_sandbox_success' });
    expect(topUp.statusCode).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  it('tells browsers and proxies to keep no copy of any API answer: data, PDFs, CSV, refusals', async () => {
    const invoices = await api(t, owner, 'GET', '/api/v1/portal/invoices');
    expect(invoices.statusCode).toBe(200);
    expect(invoices.headers['cache-control']).toBe('no-store');
    const invoiceId = invoices.json<{ data: Array<{ id: string }> }>().data[0]!.id;
    const pdf = await api(t, owner, 'GET', `/api/v1/portal/invoices/${invoiceId}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toContain('application/pdf');
    expect(pdf.headers['cache-control']).toBe('no-store');
    const csv = await api(t, owner, 'GET', '/api/v1/portal/transactions?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['cache-control']).toBe('no-store');
    for (const refused of [await api(t, null, 'GET', '/api/v1/portal/transactions'), await api(t, owner, 'GET', '/api/v1/no-such-route')]) {
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.headers['cache-control']).toBe('no-store');
    }
  });

  it('answers what the router refuses in problem+json too: a path parameter over 100 characters, a malformed URL', async () => {
    for (const url of [`/api/v1/usage/live-calls/${'x'.repeat(101)}/end`, '/api/v1/customers/%E0%A4%A']) {
      const res = await api(t, owner, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.json(), url).toMatchObject({ status: 400, code: 'malformed_request', requestId: expect.any(String) });
    }
  });

  it('says which limit an oversized body broke: the route’s own (the logo’s 256 KiB, a calls batch’s 8 MiB), else the server’s', async () => {
    const cases = [
      { url: '/api/v1/settings/invoicing/logo', method: 'PUT' as const, type: 'image/png', size: 256 * 1024 + 1, limit: 262144 },
      { url: '/api/v1/usage/calls', method: 'POST' as const, type: 'application/json', size: 8 * 1024 * 1024 + 1, limit: 8388608 },
      { url: '/api/v1/customers', method: 'POST' as const, type: 'application/json', size: 1024 * 1024 + 1, limit: t.config.bodyLimitBytes },
    ];
    for (const c of cases) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: { 'content-type': c.type }, payload: Buffer.alloc(c.size, 0x20) });
      expect(res.statusCode, c.url).toBe(413);
      expect(res.json(), c.url).toMatchObject({ code: 'body_too_large', detail: `Request body exceeds ${c.limit} bytes` });
    }
  });

  it('lets public routes ignore an unknown API key (the health check, sign-in); every other route refuses it (401)', async () => {
    const stale = { authorization: 'Bearer fk_not_a_key_any_more' };
    const health = await t.app.inject({ method: 'GET', url: '/healthz', headers: stale });
    expect(health.statusCode).toBe(200);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: stale, payload: { email: 'owner@acme.test', password: DEMO_PASSWORD } });
    expect(login.statusCode).toBe(200);
    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/customers', headers: stale });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'not_signed_in', detail: 'Unknown or revoked API key' });
    // Nor does a session cookie sent beside it make it valid.
    const withCookie = await t.app.inject({ method: 'GET', url: '/api/v1/portal/invoices', headers: { ...stale, cookie: owner.cookie } });
    expect(withCookie.statusCode).toBe(401);
  });

  it('sets no rule outside /api/: the health check has none (the web app’s files have their own: web-delivery.test.ts)', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).headers['cache-control']).toBeUndefined();
  });
});

describe('a request Node refuses before any route', () => {
  it('headers over 16 KiB: 431 in problem+json with a code, on a real socket', async () => {
    const db = await createTestDb();
    const server = await buildServer({ config: testConfig(), db: db.app.db, log: pino({ level: 'silent' }) });
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/customers?q=${'x'.repeat(20_000)}`);
      expect(res.status).toBe(431);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 431, code: 'headers_too_large', detail: expect.stringContaining('16 KiB') });
      // Bytes that are not HTTP at all: a 400 in the same shape, and the connection closed.
      const answer = await new Promise<string>((resolve, reject) => {
        let got = '';
        const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        socket.on('data', (chunk) => { got += chunk.toString(); });
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(answer).toContain('Content-Type: application/problem+json');
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'malformed_request' });
    } finally {
      await server.close();
      await db.drop();
    }
  });
});
