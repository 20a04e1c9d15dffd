import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';

/** Every migration, in order. Append only: an applied migration is never edited. */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
};
