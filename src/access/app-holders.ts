import type { Trx } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';

/** The partner's active staff granted an app, in id order: whom a scheduled check's alert goes to. */
export async function activeAppHolders(trx: Trx, partnerId: string, app: AppName): Promise<Array<{ id: string; email: string }>> {
  return trx
    .selectFrom('appGrants as g')
    .innerJoin('users as u', 'u.id', 'g.userId')
    .select(['u.id', 'u.email'])
    .where('g.partnerId', '=', partnerId)
    .where('g.app', '=', app)
    .where('u.status', '=', 'active')
    .orderBy('u.id')
    .execute();
}
