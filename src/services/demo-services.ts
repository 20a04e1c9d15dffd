import type { Trx } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { newVirtualLineId, newWallboardId } from './ids.ts';
import type { BusinessHours, Destination } from './services.db-types.ts';
import { toVirtualLineView, toWallboardView, virtualLineAuditFields, wallboardAuditFields } from './service-views.ts';
import { lineUserIds, peopleOf } from './services.repo.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };

/**
 * The services part of the demo data, inside the seed's transaction (as the database owner): two virtual lines and a
 * wallboard for Acme. The main line rings the Sales group in office hours (Singapore) and goes to voicemail outside them;
 * the support line rings the owner, always. Each is audited as created by the system, as the customer's Audit section shows.
 */
export async function seedServicesDemo(trx: Trx, ids: { partnerId: string; customerId: string }): Promise<void> {
  const users = await trx.selectFrom('users').select(['id', 'email']).where('partnerId', '=', ids.partnerId).where('customerId', '=', ids.customerId).orderBy('email').execute();
  const idOf = (email: string) => users.find((u) => u.email === email)?.id;
  const owner = idOf('owner@acme.test') ?? users[0]?.id;
  if (!owner) return;
  const member = idOf('member@acme.test');
  const officeHours: BusinessHours = {
    timezone: 'Asia/Singapore',
    days: (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, open: '09:00', close: '18:00' })),
    outsideHours: { type: 'voicemail' },
  };
  const lines: Array<{ number: string; name: string; destination: Destination; businessHours: BusinessHours | null }> = [
    { number: '+6531234567', name: 'Main line', destination: { type: 'group', name: 'Sales', memberUserIds: member ? [owner, member] : [owner] }, businessHours: officeHours },
    { number: '+6531234568', name: 'Support line', destination: { type: 'user', userId: owner }, businessHours: null },
  ];
  for (const l of lines) {
    const id = newVirtualLineId();
    const row = await trx.insertInto('virtualLines').values({
      id, partnerId: ids.partnerId, customerId: ids.customerId, subscriptionId: null, number: l.number, name: l.name,
      destination: JSON.stringify(l.destination), businessHours: l.businessHours ? JSON.stringify(l.businessHours) : null, removedAt: null,
    }).returningAll().executeTakeFirstOrThrow();
    const view = toVirtualLineView(row, await peopleOf(trx, ids, lineUserIds(row)));
    await recordAudit(trx, SEED_ACTOR, {
      partnerId: ids.partnerId, customerId: ids.customerId, app: 'portal', action: 'virtual_line.created', targetType: 'virtual_line', targetId: id,
      changes: diff(null, virtualLineAuditFields(view)),
    });
  }
  const wallboardId = newWallboardId();
  const board = await trx.insertInto('wallboards').values({
    id: wallboardId, partnerId: ids.partnerId, customerId: ids.customerId, subscriptionId: null, name: 'Front desk',
    queues: ['Sales', 'Support'], widgets: ['calls_waiting', 'longest_wait', 'agents_available', 'answered_today'], refreshIntervalSeconds: 30, removedAt: null,
  }).returningAll().executeTakeFirstOrThrow();
  await recordAudit(trx, SEED_ACTOR, {
    partnerId: ids.partnerId, customerId: ids.customerId, app: 'portal', action: 'wallboard.created', targetType: 'wallboard', targetId: wallboardId,
    changes: diff(null, wallboardAuditFields(toWallboardView(board))),
  });
}
