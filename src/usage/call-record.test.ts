import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { callRecordSchema, plainCallRecord, readCallRecord } from './call-record.ts';
import { isIsoInstant, isoInstant } from '../platform/schemas.ts';
import { LONE_SURROGATE_MESSAGE } from '../platform/nul-text.ts';

const good = {
  callId: 'c-1', customerId: 'cus_01kbm5abcdefghij', from: '+6561234567', to: '+6598765432',
  startedAt: '2026-12-01T10:00:00Z', durationSeconds: 125, direction: 'outbound',
};

/** Instants near the edges of the form and of the years: good ones, and ones the schema refuses. */
const instant = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-12-01T10:00:00+08:00', '2026-12-01T10:00:00.123456-05:30', '2024-02-29T00:00:00Z', '2026-02-29T00:00:00Z', '2026-02-30T00:00:00Z',
    '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T10:60:00Z', '2026-12-01T10:00:60Z',
    '2026-12-01T10:00Z', '2026-12-01 10:00:00Z', '2026-12-01T10:00:00', '2026-12-01T10:00:00+24:00', '2026-12-01T10:00:00+0800',
    '0000-12-31T23:00:00-05:00', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59-01:00', '1900-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z', '2026-12-01t10:00:00z', '', ' 2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z\n',
  ),
  fc.string({ maxLength: 30 }),
);
const textOf = (min: number, max: number) => fc.oneof(
  fc.string({ minLength: Math.max(0, min - 1), maxLength: max + 1 }),
  fc.string({ minLength: min, maxLength: max }).map((s) => `${s}\u0000`),
  fc.string({ minLength: min, maxLength: max - 1 }).map((s) => `${s}\ud800`), // a lone surrogate
  fc.constantFrom('\udc00+6561234567', '+65\ud83d\ude00123', '+6561234567', 'abc', '12', '', 'x'.repeat(Math.max(0, min - 1)), 'x'.repeat(min), 'x'.repeat(max), 'x'.repeat(max + 1), `${'x'.repeat(max - 1)}\u0000`),
);
const value = fc.oneof(fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.string({ maxLength: 5 }), fc.array(fc.integer(), { maxLength: 2 }));
const field = {
  callId: fc.oneof(textOf(1, 100), value),
  customerId: fc.oneof(
    fc.stringMatching(/^cus_[0-9a-z]{10,40}$/), fc.constantFrom('cus_0123456789', 'cus_012345678', 'cus_ABCDEFGHIJKL', 'ptn_0123456789', `cus_${'a'.repeat(41)}`), value,
  ),
  from: fc.oneof(textOf(3, 32), value),
  to: fc.oneof(textOf(3, 32), value),
  startedAt: fc.oneof(instant, value),
  durationSeconds: fc.oneof(fc.integer({ min: -2, max: 86_402 }), fc.constantFrom(0, 86_400, 1.5, -0, Number.NaN, Infinity, 2 ** 53), value),
  direction: fc.oneof(fc.constantFrom('outbound', 'inbound', 'OUTBOUND', 'in', ''), value),
};
/** Records as a switch's JSON would bring them: each field good or bad, sometimes missing, sometimes one more. */
const record = fc.record(field, { requiredKeys: [] }).chain((r) => fc.oneof(
  { weight: 4, arbitrary: fc.constant(r as Record<string, unknown>) },
  { weight: 1, arbitrary: fc.constantFrom('extra', 'callid', '__proto__', 'toString').map((k) => JSON.parse(JSON.stringify({ ...r, [k]: 1 })) as Record<string, unknown>) },
));
/** Records that are good in every field. */
const goodRecord = fc.record({
  callId: fc.string({ minLength: 1, maxLength: 100 }).filter((s) => !s.includes('\u0000')),
  customerId: fc.stringMatching(/^cus_[0-9a-z]{10,40}$/),
  from: fc.string({ minLength: 3, maxLength: 32 }).filter((s) => !s.includes('\u0000')),
  to: fc.string({ minLength: 3, maxLength: 32 }).filter((s) => !s.includes('\u0000')),
  startedAt: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  durationSeconds: fc.integer({ min: 0, max: 86_400 }),
  direction: fc.constantFrom('outbound', 'inbound'),
});

/** A good record with one field changed to any value of the field's arbitrary (often an edge), or taken away. */
const nearlyGood = fc.tuple(goodRecord, fc.constantFrom(...(Object.keys(field) as Array<keyof typeof field>))).chain(([r, key]) =>
  fc.option(field[key], { freq: 8 }).map((v) => {
    const copy: Record<string, unknown> = { ...r };
    if (v === null) delete copy[key];
    else copy[key] = v;
    return copy;
  }));

/** The record as a request body holds it (JSON), read by hand and by the schema: accepted by both or neither, equal. */
function sameAnswers(r: Record<string, unknown>): void {
  const json = JSON.parse(JSON.stringify(r)) as unknown;
  const plain = plainCallRecord(json);
  const parsed = callRecordSchema.safeParse(json);
  expect(plain !== null).toBe(parsed.success);
  if (plain) expect(plain).toStrictEqual(parsed.data);
}

describe('a call record read by hand, as the schema reads it', () => {
  it('accepts a JSON record exactly when the schema does, with the same fields', () => {
    fc.assert(fc.property(record, sameAnswers), { numRuns: 5_000 });
  });

  it('the same for records good but for one field', () => {
    fc.assert(fc.property(nearlyGood, sameAnswers), { numRuns: 10_000 });
  });

  it('reads every good record by hand (the schema is left for refusals)', () => {
    fc.assert(fc.property(goodRecord, (r) => {
      const json = JSON.parse(JSON.stringify(r)) as unknown;
      expect(plainCallRecord(json)).toStrictEqual(callRecordSchema.parse(json));
    }), { numRuns: 2_000 });
  });

  it('an instant: the plain test agrees with the schema', () => {
    fc.assert(fc.property(instant, (v) => {
      expect(isIsoInstant(v)).toBe(isoInstant.safeParse(v).success);
    }), { numRuns: 5_000 });
  });

  it('leaves what is not a plain JSON object to the schema', () => {
    class Shaped { callId = good.callId; customerId = good.customerId; from = good.from; to = good.to; startedAt = good.startedAt; durationSeconds = good.durationSeconds; direction = good.direction; }
    for (const raw of [null, undefined, 'x', 3, [good], new Shaped(), Object.assign(Object.create(null) as object, good)]) expect(plainCallRecord(raw)).toBeNull();
    expect(plainCallRecord(JSON.parse(JSON.stringify(good)))).toEqual(good);
  });

  it('answers a refused record with the schema’s own errors, field by field', () => {
    expect(readCallRecord({ ...good, durationSeconds: -1, to: 'x' })).toEqual({
      ok: false,
      errors: [
        { path: 'to', message: 'at least 3 characters' },
        { path: 'durationSeconds', message: 'at least 0' },
      ],
    });
    expect(readCallRecord({ ...good, colour: 'red' })).toEqual({ ok: false, errors: [{ path: 'colour', message: 'unknown field' }] });
    expect(readCallRecord({ ...good, startedAt: '0000-12-31T23:00:00-05:00' })).toEqual({ ok: false, errors: [{ path: 'startedAt', message: 'a year from 0001 to 9999 (UTC)' }] });
    expect(readCallRecord({ ...good, from: '+6561234567\ud800' })).toEqual({ ok: false, errors: [{ path: 'from', message: LONE_SURROGATE_MESSAGE }] });
    expect(readCallRecord({ ...good, callId: '\udfffcall' })).toEqual({ ok: false, errors: [{ path: 'callId', message: LONE_SURROGATE_MESSAGE }] });
    expect(readCallRecord({ ...good, to: '+6562223333\ud83d\ude00' })).toMatchObject({ ok: true }); // a pair is text (and not a phone number: the batch says so)
    expect(readCallRecord(JSON.parse(JSON.stringify(good)))).toEqual({ ok: true, record: good });
  });
});
