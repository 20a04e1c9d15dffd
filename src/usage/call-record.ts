import assert from 'node:assert/strict';
import { z } from 'zod';
import { idOf, idPattern, isIsoInstant, isoInstant } from '../platform/schemas.ts';
import { LONE_SURROGATE_MESSAGE, NO_NUL, NUL_MESSAGE } from '../platform/nul-text.ts';

/** Text PostgreSQL can store as sent: no NUL, no lone UTF-16 surrogate (`\ud800`, which text would keep as U+FFFD). */
const storable = (min: number, max: number) =>
  z.string().min(min).max(max).regex(NO_NUL, NUL_MESSAGE).refine((v) => v.isWellFormed(), LONE_SURROGATE_MESSAGE);

/**
 * One call record as the switch sends it. Checked record by record: one bad record does not sink the batch (its text
 * fields refuse the NUL character and a lone surrogate here, as the server does for other routes: the batch route is
 * `bodyTextChecked`).
 */
export const callRecordSchema = z.strictObject({
  callId: storable(1, 100),
  customerId: idOf('cus'),
  from: storable(3, 32),
  to: storable(3, 32),
  startedAt: isoInstant,
  durationSeconds: z.number().int().min(0).max(86_400),
  direction: z.enum(['outbound', 'inbound']),
});
export type CallRecord = z.infer<typeof callRecordSchema>;

const FIELDS = new Set<string>(Object.keys(callRecordSchema.shape));
// A field added to the schema must be read by hand too (plainCallRecord), or every record would lose it there.
assert.deepEqual([...FIELDS].sort(), ['callId', 'customerId', 'direction', 'durationSeconds', 'from', 'startedAt', 'to'], 'plainCallRecord reads every field of callRecordSchema');
const CUSTOMER_ID = idPattern('cus');

const text = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max && NO_NUL.test(v) && v.isWellFormed();

/**
 * A record as `callRecordSchema` reads it when the schema accepts it, checked by hand: the same rules, without zod's
 * per-field results and issues (a batch of 10,000 records took 24-38 ms through zod on this machine, before any of its
 * charging could start; ADR 0005, amendment of 2026-12-04). Null for anything else, which the schema then reads and
 * answers with its own errors. For a plain JSON object, accepted here exactly when the schema accepts it, with the same
 * fields (`call-record.test.ts` holds the two to it over random records).
 */
export function plainCallRecord(raw: unknown): CallRecord | null {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return null;
  let fields = 0;
  for (const key in raw) {
    if (!FIELDS.has(key)) return null;
    fields++;
  }
  if (fields !== FIELDS.size) return null;
  const r = raw as Record<string, unknown>;
  const { callId, customerId, from, to, startedAt, durationSeconds, direction } = r;
  if (!text(callId, 1, 100) || typeof customerId !== 'string' || !CUSTOMER_ID.test(customerId) || !text(from, 3, 32) || !text(to, 3, 32)) return null;
  if (typeof startedAt !== 'string' || !isIsoInstant(startedAt)) return null;
  if (typeof durationSeconds !== 'number' || !Number.isSafeInteger(durationSeconds) || durationSeconds < 0 || durationSeconds > 86_400) return null;
  if (direction !== 'outbound' && direction !== 'inbound') return null;
  // The object itself: it has these seven fields and no other, each as the schema reads it (no copy per record).
  return r as CallRecord;
}

/** Read one record: the record, or the schema's errors (`path`: the field, or the unknown keys; `message`). */
export function readCallRecord(raw: unknown): { ok: true; record: CallRecord } | { ok: false; errors: Array<{ path: string; message: string }> } {
  const plain = plainCallRecord(raw);
  if (plain) return { ok: true, record: plain };
  const parsed = callRecordSchema.safeParse(raw);
  if (parsed.success) return { ok: true, record: parsed.data };
  return {
    ok: false,
    // Unknown keys are named by the path, and said as the server says them (src/platform/server.ts validationErrors).
    errors: parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? { path: i.keys.join(','), message: i.keys.length > 1 ? 'unknown fields' : 'unknown field' } : { path: i.path.join('.'), message: i.message })),
  };
}
