import type { Trx } from '../platform/database.ts';

/**
 * Who hears of a movement of the organisation's points (a top-up's receipt, a card payment's receipt naming the points
 * used): people who may see company credits now (domain.md; docs/adr/0049). The user who started it while still an
 * active owner or admin (a role can change while a delayed card payment settles), otherwise the owner, else the admins.
 * `startedBy` null (an automatic top-up): the owner, else the admins.
 */
export async function creditRecipients(
  trx: Trx, who: { partnerId: string; customerId: string; startedBy: string | null },
): Promise<{ id: string; email: string }[]> {
  const people = trx.selectFrom('users').select(['id', 'email'])
    .where('partnerId', '=', who.partnerId).where('customerId', '=', who.customerId).where('status', '=', 'active');
  const starter = who.startedBy === null ? [] : await people.where('id', '=', who.startedBy).where('customerRole', 'in', ['owner', 'admin']).execute();
  if (starter.length > 0) return starter;
  const owners = await people.where('customerRole', '=', 'owner').execute();
  return owners.length > 0 ? owners : people.where('customerRole', '=', 'admin').execute();
}
