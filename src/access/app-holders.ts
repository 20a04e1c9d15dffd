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

/** The most colleagues named as able to grant an app: enough to ask one, bounded as every list is. */
export const MAX_GRANTORS_LISTED = 20;

/**
 * Who at the partner can give an app without the operator (docs/adr/0039): its active staff holding both the app and
 * Access Control, in name order, the first MAX_GRANTORS_LISTED. None for Finance, which only the platform operator grants.
 */
export async function activeGrantors(trx: Trx, partnerId: string, app: AppName): Promise<Array<{ id: string; name: string; email: string }>> {
  if (app === 'finance') return [];
  return trx
    .selectFrom('appGrants as g')
    .innerJoin('appGrants as a', (join) => join.onRef('a.userId', '=', 'g.userId').on('a.app', '=', 'access'))
    .innerJoin('users as u', 'u.id', 'g.userId')
    .select(['u.id', 'u.name', 'u.email'])
    .where('g.partnerId', '=', partnerId)
    .where('a.partnerId', '=', partnerId)
    .where('u.partnerId', '=', partnerId)
    .where('g.app', '=', app)
    .where('u.status', '=', 'active')
    .orderBy('u.name')
    .orderBy('u.id')
    .limit(MAX_GRANTORS_LISTED)
    .execute();
}
