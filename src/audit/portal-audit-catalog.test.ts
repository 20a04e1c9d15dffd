import { describe, expect, it } from 'vitest';
import { allAuditActions } from './audit-catalog.ts';
import { PORTAL_ACTIONS, PORTAL_AUDIT_TYPES, peopleIdsOf, portalActionsOf, portalChanges, withoutInternalKeys } from './portal-audit-catalog.ts';

describe('the portal audit catalog', () => {
  it('files every action under a known type, and every type has actions', () => {
    for (const rule of Object.values(PORTAL_ACTIONS)) expect(PORTAL_AUDIT_TYPES).toContain(rule.type);
    for (const type of PORTAL_AUDIT_TYPES) expect(portalActionsOf(type).length).toBeGreaterThan(0);
    expect(PORTAL_ACTIONS['customer.noted']).toBeUndefined();
  });

  it("lists only actions of the Audit app's catalog", () => {
    const known = new Set(allAuditActions());
    expect(Object.keys(PORTAL_ACTIONS).filter((a) => !known.has(a))).toEqual([]);
  });

  it('keeps only allow-listed fields, drops internal keys at any depth', () => {
    const shown = portalChanges('subscription.purchased', {
      product: { after: 'SKU Line' }, price: { after: '10.00' }, cost: { after: '4.00' }, priceId: { after: 'prc_1' }, remark: { after: 'x' },
    }, () => undefined);
    expect(shown).toEqual({ product: { after: 'SKU Line' }, price: { after: '10.00' } });
    expect(withoutInternalKeys([{ a: 1, renewalCost: 2, nested: { margin: 3, b: 4 } }])).toEqual([{ a: 1, nested: { b: 4 } }]);
    expect(portalChanges('customer.noted', { note: { after: 'secret' } }, () => undefined)).toEqual({});
  });

  it('names people instead of showing their ids, and never falls back to the id', () => {
    const changes = { ownerId: { before: 'usr_a', after: 'usr_b' }, newOwnerRole: { before: 'admin', after: 'owner' } };
    expect(peopleIdsOf([{ action: 'ownership.transferred', changes }])).toEqual(['usr_a', 'usr_b']);
    const names = new Map([['usr_a', 'Ann'], ['usr_b', 'Bob']]);
    expect(portalChanges('ownership.transferred', changes, (id) => names.get(id))).toEqual({
      newOwnerRole: { before: 'admin', after: 'owner' }, owner: { before: 'Ann', after: 'Bob' },
    });
    expect(portalChanges('ownership.transferred', changes, () => undefined).owner).toEqual({ before: null, after: null });
  });
});
