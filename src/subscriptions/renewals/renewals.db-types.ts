import type { ColumnType } from 'kysely';

/** Migration 0025_renewals: a top-up that pays for a renewal names the renewal group's period end. */
declare module '../../platform/db-types.ts' {
  interface TopUpsTable {
    renewalFor: ColumnType<Date | null, Date | string | null | undefined, never>;
  }
}
