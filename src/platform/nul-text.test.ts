import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { findLoneSurrogate, findNulText, findUnstorableText, LONE_SURROGATE_MESSAGE, NUL_MESSAGE } from './nul-text.ts';

describe('findNulText', () => {
  it('names the first string or key holding a NUL character, by its path', () => {
    expect(findNulText({ name: 'Acme', lines: [{ description: 'ok' }, { description: 'bad\u0000' }] })).toBe('lines.1.description');
    expect(findNulText(['a', 'b\u0000'])).toBe('1');
    expect(findNulText('\u0000')).toBe('');
    expect(findNulText({ ['k\u0000ey']: 1 })).toBe('k\u0000ey');
    expect(findNulText({ a: { b: { c: ['x', { d: 'y\u0000z' }] } } })).toBe('a.b.c.1.d');
  });

  it('finds nothing in clean values, numbers, nulls, buffers, or a backslash followed by u0000 as text', () => {
    expect(findNulText({ name: 'Acme', n: 1, none: null, yes: true, list: ['a', 'b'], nested: { text: '\\u0000' } })).toBeNull();
    expect(findNulText(Buffer.from([0, 1, 2]))).toBeNull();
    expect(findNulText(undefined)).toBeNull();
    expect(findNulText(null)).toBeNull();
  });
});

describe('a request carrying a NUL character', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signIn(t, 'admin@demo.test');
  });
  afterAll(async () => t.close());

  it('in its body: a 400 naming the field, and nothing created', async () => {
    // JSON escapes the character as \u0000: valid JSON, text PostgreSQL cannot store.
    const res = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Nul\u0000 Pte Ltd', currency: 'SGD', ownerEmail: 'nul@nul.test', ownerName: 'Nul' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'name', message: NUL_MESSAGE }] });
    const created = await t.db.owner.db.selectFrom('customers').select('id').where('name', 'like', 'Nul%').execute();
    expect(created).toEqual([]);
  });

  it('nested in its body, or in its query string: a 400 naming that field', async () => {
    const nested = await api(t, admin, 'POST', '/api/v1/customers', {
      name: 'Nested Pte Ltd', currency: 'SGD', ownerEmail: 'nested@nested.test', ownerName: 'Nested', billingContact: { address: '1 Road\u0000' },
    });
    expect(nested.statusCode).toBe(400);
    expect(nested.json().errors).toEqual([{ path: 'billingContact.address', message: NUL_MESSAGE }]);
    const query = await api(t, admin, 'GET', '/api/v1/customers?q=ac%00me');
    expect(query.statusCode).toBe(400);
    expect(query.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'q', message: NUL_MESSAGE }] });
    // The same search without it works.
    expect((await api(t, admin, 'GET', '/api/v1/customers?q=acme')).statusCode).toBe(200);
  });

  it('is refused only after access is decided: a caller who is not signed in learns nothing more', async () => {
    const res = await api(t, null, 'GET', '/api/v1/customers?q=%00');
    expect(res.statusCode).toBe(401);
  });
});

describe('a request carrying a lone UTF-16 surrogate', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signIn(t, 'admin@demo.test');
  });
  afterAll(async () => t.close());

  it('is found by its path; a surrogate pair (an emoji) is text like any other', () => {
    expect(findLoneSurrogate({ lines: [{ description: 'ok' }, { description: 'Globex \ud800' }] })).toBe('lines.1.description');
    expect(findLoneSurrogate({ name: 'tail \udfff' })).toBe('name');
    expect(findLoneSurrogate({ name: 'Globex 😀', nested: ['\ud83d\ude00'] })).toBeNull();
    expect(findUnstorableText({ a: 'x\u0000', b: 'y\ud800' })).toEqual({ path: 'a', message: NUL_MESSAGE });
  });

  it('in a customer’s new name: a 400 naming the field (it was a 500), and the name unchanged', async () => {
    const list = await api(t, admin, 'GET', '/api/v1/customers?limit=1');
    const customer = list.json<{ data: Array<{ id: string; name: string }> }>().data[0]!;
    // JSON carries it as the escape \ud800 (what JSON.stringify writes for it): valid JSON, no text.
    const res = await api(t, admin, 'PATCH', `/api/v1/customers/${customer.id}`, { name: 'Globex \ud800' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'name', message: LONE_SURROGATE_MESSAGE }] });
    const after = await t.db.owner.db.selectFrom('customers').select('name').where('id', '=', customer.id).executeTakeFirstOrThrow();
    expect(after.name).toBe(customer.name);
    const emoji = await api(t, admin, 'PATCH', `/api/v1/customers/${customer.id}`, { name: 'Globex 😀' });
    expect(emoji.statusCode).toBe(200);
    expect(emoji.json<{ name: string }>().name).toBe('Globex 😀');
  });

  it('in your own name: a 400 naming the field, not "x\ufffd" stored in its place', async () => {
    const res = await api(t, admin, 'PATCH', '/api/v1/auth/me', { name: 'x\ud800' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'name', message: LONE_SURROGATE_MESSAGE }] });
    const me = await t.db.owner.db.selectFrom('users').select('name').where('email', '=', 'admin@demo.test').executeTakeFirstOrThrow();
    expect(me.name).not.toContain('\ufffd');
  });
});
