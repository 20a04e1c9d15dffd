import type { ColumnType } from 'kysely';

/** The customer's services (migration 0022_services), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** jsonb: read as the parsed value, written as a JSON string. */
type Json<T> = ColumnType<T, string, string>;

export type ServiceStatus = 'active' | 'removed';

/** Where calls go. */
export type Destination =
  | { type: 'user'; userId: string }
  | { type: 'group'; name: string; memberUserIds: string[] }
  | { type: 'external'; number: string };

export type OutsideHours = { type: 'voicemail' } | Destination;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Open hours per weekday (days not listed are closed), in a timezone; outside them calls go to `outsideHours`. */
export interface BusinessHours {
  timezone: string;
  days: Array<{ day: Weekday; open: string; close: string }>;
  outsideHours: OutsideHours;
}

export interface VirtualLinesTable {
  id: string;
  partnerId: string;
  customerId: string;
  subscriptionId: string | null;
  number: string;
  name: string;
  destination: Json<Destination>;
  businessHours: ColumnType<BusinessHours | null, string | null, string | null>;
  status: ColumnType<ServiceStatus, ServiceStatus | undefined, ServiceStatus>;
  version: ColumnType<number, number | undefined, number>;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
  removedAt: Timestamp | null;
}

export interface WallboardsTable {
  id: string;
  partnerId: string;
  customerId: string;
  subscriptionId: string | null;
  name: string;
  queues: string[];
  widgets: string[];
  refreshIntervalSeconds: number;
  status: ColumnType<ServiceStatus, ServiceStatus | undefined, ServiceStatus>;
  version: ColumnType<number, number | undefined, number>;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
  removedAt: Timestamp | null;
}

declare module '../platform/db-types.ts' {
  interface Database {
    virtualLines: VirtualLinesTable;
    wallboards: WallboardsTable;
  }
}
