import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';
import * as m0003 from './0003_audit_notifications.ts';
import * as m0010 from './0010_ledger.ts';

/** Every migration, in order. Append only: an applied migration is never edited. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0003_audit_notifications': m0003,
  '0010_ledger': m0010,
};
