import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from './record-audit.ts';

describe('diff', () => {
  it('keeps changed fields only, with before and after', () => {
    expect(diff({ name: 'Acme', currency: 'SGD' }, { name: 'Acme Pte', currency: 'SGD' })).toEqual({ name: { before: 'Acme', after: 'Acme Pte' } });
    expect(diff(null, { name: 'Acme' })).toEqual({ name: { after: 'Acme' } });
    expect(diff({ name: 'Acme' }, null)).toEqual({ name: { before: 'Acme' } });
  });

  it('redacts secrets', () => {
    expect(diff({ passwordHash: 'a' }, { passwordHash: 'b' })).toEqual({ passwordHash: { before: '[redacted]', after: '[redacted]' } });
    expect(diff(null, { token: 'abc' })).toEqual({ token: { after: '[redacted]' } });
  });

  it('compares sets, maps, bigints and dates by content, at any depth, and treats undefined as null', () => {
    expect(diff({ apps: new Set(['a']) }, { apps: new Set(['a', 'b']) })).toEqual({ apps: { before: ['a'], after: ['a', 'b'] } });
    expect(diff({ apps: new Set(['a']) }, { apps: new Set(['a']) })).toEqual({});
    expect(diff({ amount: 10n }, { amount: 12n })).toEqual({ amount: { before: '10', after: '12' } });
    expect(diff({ limits: { max: 5n } }, { limits: { max: 6n } })).toEqual({ limits: { before: { max: '5' }, after: { max: '6' } } });
    expect(diff({ at: new Date('2026-01-01T00:00:00Z') }, { at: new Date('2026-01-02T00:00:00Z') })).toEqual({
      at: { before: '2026-01-01T00:00:00.000Z', after: '2026-01-02T00:00:00.000Z' },
    });
    expect(diff({ note: undefined }, { note: null })).toEqual({});
    expect(diff({ tags: new Map([['k', 1]]) }, { tags: new Map([['k', 2]]) })).toEqual({ tags: { before: { k: 1 }, after: { k: 2 } } });
  });
});

describe('recordAudit', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  const ctx = { principal: { kind: 'system' as const, job: 'test' }, requestId: 'req_1', ip: '127.0.0.1', userAgent: 'x'.repeat(600) };

  it('commits with the caller’s change, or not at all', async () => {
    const partner = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
    const kept = await inScope(db.app.db, { kind: 'partner', partnerId: partner }, (trx) =>
      recordAudit(trx, ctx, { partnerId: partner, app: 'customer', action: 'customer.noted', targetType: 'customer', targetId: null, changes: diff(null, { amount: 5n }) }),
    );
    let dropped = '';
    await expect(inScope(db.app.db, { kind: 'partner', partnerId: partner }, async (trx) => {
      dropped = await recordAudit(trx, ctx, { partnerId: partner, app: 'customer', action: 'customer.noted', targetType: 'customer', targetId: null });
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');

    const rows = await db.owner.db.selectFrom('auditEvents').selectAll().where('id', 'in', [kept, dropped]).execute();
    expect(rows.map((r) => r.id)).toEqual([kept]);
    expect(rows[0]).toMatchObject({ actorType: 'system', actorLabel: 'test', requestId: 'req_1', ip: '127.0.0.1', changes: { amount: { after: '5' } } });
    expect(rows[0]!.userAgent).toHaveLength(500);
  });
});
