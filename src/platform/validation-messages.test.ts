import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import './validation-messages.ts';

const messagesOf = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  expect(parsed.success).toBe(false);
  return Object.fromEntries(parsed.error!.issues.map((i) => [i.path.join('.'), i.message]));
};

describe('validation messages in words', () => {
  it('say each shared check as a person would: bounds with their unit, required, the allowed values, the expected form', () => {
    const schema = z.strictObject({
      name: z.string().min(1).max(5), code: z.string().min(3), one: z.string().length(2), n: z.number().int().min(1).max(10), price: z.number().positive(),
      below: z.number().lt(5), status: z.enum(['draft', 'issued']), literal: z.literal('yes'), email: z.email(), day: z.iso.date(),
      at: z.iso.datetime({ offset: true }), lines: z.array(z.string()).min(1).max(2), one_item: z.array(z.string()).max(1), needed: z.string(),
      step: z.number().multipleOf(5), pattern: z.string().regex(/^[0-9]+$/),
    });
    expect(messagesOf(schema, {
      name: '', code: 'ab', one: 'abc', n: 11, price: 0, below: 5, status: 'paid', literal: 'no', email: 'x', day: '2026-13-01', at: '2026-11-30',
      lines: [], one_item: ['a', 'b'], step: 7, pattern: 'abc',
    })).toEqual({
      name: 'required (empty)', code: 'at least 3 characters', one: 'exactly 2 characters', n: 'at most 10', price: 'more than 0', below: 'less than 5',
      status: 'one of: draft, issued', literal: 'must be yes', email: 'not an email address', day: 'not a day (YYYY-MM-DD)',
      at: 'not a date and time with its offset (2026-11-30T09:00:00+08:00)', lines: 'at least 1 item', one_item: 'at most 1 item', needed: 'required',
      step: 'a multiple of 5', pattern: 'does not match /^[0-9]+$/',
    });
    expect(messagesOf(z.object({ n: z.number(), s: z.string(), list: z.array(z.number()) }), { n: '3', s: null, list: {} }))
      .toEqual({ n: 'expected a number, got a string', s: 'expected a string, got null', list: 'expected an array, got an object' });
    expect(messagesOf(z.strictObject({}), { extra: 1, other: 2 })).toEqual({ '': 'unknown fields: extra, other' });
  });

  it('say what a client sent wrong, not what the validator made of it', () => {
    const schema = z.strictObject({
      limit: z.coerce.number().int().min(1).max(200), quantity: z.number().int().min(1).max(10_000), whole: z.number().int(), kind: z.enum(['a', 'b']),
    });
    // A query value that is no number arrives as NaN; 1.5 for a whole number; 1e308 is beyond every integer; a missing enum.
    expect(messagesOf(schema, { limit: 'abc', quantity: 1.5, whole: 1e308 })).toEqual({
      limit: 'not a number', quantity: 'a whole number', whole: 'too large a number', kind: 'required',
    });
    expect(messagesOf(z.object({ n: z.number().int() }), { n: -1e308 })).toEqual({ n: 'too small a number' });
    // A query parameter given twice (?status=a&status=b) arrives as a list; a union says so too, or that it is missing.
    const union = z.union([z.literal('platform'), z.string().regex(/^ptn_/)]);
    expect(messagesOf(z.object({ s: z.string(), u: union, missing: union }), { s: ['a', 'b'], u: ['platform', 'ptn_1'] }))
      .toEqual({ s: 'expected a string, got several values', u: 'expected one value, got several values', missing: 'required' });
  });

  it('never replace a message a schema gives itself', () => {
    expect(messagesOf(z.object({ id: z.string().regex(/^cus_/, 'a cus_ id'), pw: z.string().min(10, 'at least 10 characters, please') }), { id: 'x', pw: 'short' }))
      .toEqual({ id: 'a cus_ id', pw: 'at least 10 characters, please' });
  });
});

describe('an API client refused by a route schema', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signIn(t, 'admin@demo.test');
  });
  afterAll(async () => t.close());

  it('reads each field\'s problem in words, in the errors and in the detail', async () => {
    const res = await api(t, admin, 'POST', '/api/v1/customers', { name: 'x'.repeat(201), currency: 'SGD', ownerEmail: 'not-an-email', ownerName: 'Owner' });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; detail: string; errors: { path: string; message: string }[] }>();
    expect(body.code).toBe('validation_failed');
    expect(body.errors).toEqual(expect.arrayContaining([{ path: 'name', message: 'at most 200 characters' }, { path: 'ownerEmail', message: 'not an email address' }]));
    expect(body.detail).toContain('name: at most 200 characters');
    expect(body.detail).not.toMatch(/Too big|expected string/);
  });

  it('names a header as the API documents it, not as Node lowercases it', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/payments', headers: { ...finance.headers, 'idempotency-key': 'k'.repeat(300) },
      payload: { method: 'bank_transfer', currency: 'SGD', amount: '1.00', receivedOn: new Date().toISOString().slice(0, 10) },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ path: 'Idempotency-Key', message: 'at most 255 characters' }] });
  });
});
