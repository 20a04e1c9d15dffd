import type { ColumnType, Generated } from 'kysely';
import type { AuditEventsTable } from '../platform/db-types.ts';

/** The Audit app's columns and tables (migration 0034_audit_app), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type AuthMethodColumn = 'password' | 'password_2fa' | 'api_key' | 'system' | 'operator';

export interface AuditChainChecksTable {
  chainKey: string;
  partnerId: string | null;
  verifiedSeq: ColumnType<string, bigint | number | string | undefined, bigint | number | string>;
  verifiedHash: Generated<string>;
  verifiedEventId: string | null;
  verifiedOccurredAt: Timestamp | null;
  checkedAt: Timestamp | null;
  /** When the newest full pass (from the chain's start or newest cut) began; null before the first (migration 0054). */
  fullyVerifiedAt: Timestamp | null;
  problemSeq: ColumnType<string | null, bigint | number | string | null | undefined, bigint | number | string | null>;
  problemEventId: string | null;
  problemKind: 'altered' | 'missing' | 'out_of_order' | null;
  problemDetail: string | null;
  problemDetectedAt: Timestamp | null;
  problemAlertedAt: Timestamp | null;
}

export interface AuditCutsTable {
  id: Generated<string>;
  chainKey: string;
  partnerId: string | null;
  beforeSeq: ColumnType<string, never, never>;
  anchorHash: string;
  anchorOccurredAt: Date;
  removedCount: ColumnType<string, never, never>;
  retentionYears: number;
  cutBy: string;
  cutAt: ColumnType<Date, never, never>;
}

/**
 * Events of an `inScope` transaction, waiting for its commit to join their chain (migration 0041): the app only inserts;
 * a deferred trigger moves them into `audit_events` while the transaction commits.
 */
export type AuditEventQueueTable = { ord: ColumnType<string, never, never> } & Pick<AuditEventsTable,
  'id' | 'partnerId' | 'customerId' | 'actorType' | 'actorId' | 'actorLabel' | 'app' | 'action' | 'targetType' | 'targetId' | 'changes'
  | 'requestId' | 'ip' | 'userAgent' | 'authMethod'>;

declare module '../platform/db-types.ts' {
  interface AuditEventsTable {
    authMethod: ColumnType<AuthMethodColumn | null, AuthMethodColumn | null | undefined, never>;
    /** Computed by the audit queue before commit; written by the commit trigger only (migration 0042). */
    searchKeys: ColumnType<string[] | null, never, never>;
  }
  interface SessionsTable {
    authMethod: ColumnType<'password' | 'password_2fa', 'password' | 'password_2fa' | undefined, 'password' | 'password_2fa'>;
  }
  interface PartnerSettingsTable {
    auditRetentionYears: Generated<number>;
  }
  interface Database {
    auditChainChecks: AuditChainChecksTable;
    auditCuts: AuditCutsTable;
    auditEventQueue: AuditEventQueueTable;
  }
}
