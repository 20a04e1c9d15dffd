import type { ColumnType, Generated } from 'kysely';

/** Migration 0036_topup_policy_contact_sales: policy version ids and withdrawal, the version on each top-up, notices. */
declare module '../platform/db-types.ts' {
  interface Database {
    topUpPolicyNotices: TopUpPolicyNoticesTable;
  }
  interface TopUpPoliciesTable {
    id: Generated<string>;
    withdrawnAt: ColumnType<Date | null, never, Date>;
    withdrawnBy: ColumnType<string | null, never, string | null>;
  }
  interface TopUpsTable {
    /** The policy version that applied (null: the built-in default). */
    policyVersionId: ColumnType<string | null, string | null | undefined, never>;
  }
  interface PartnerSettingsTable {
    /** The name shown with the contact-sales address (Reply-To of sales notifications). */
    contactSalesReplyToName: ColumnType<string | null, string | null | undefined, string | null>;
  }
  interface NotificationsTable {
    replyToEmail: ColumnType<string | null, string | null | undefined, string | null>;
    replyToName: ColumnType<string | null, string | null | undefined, string | null>;
  }
}

export interface TopUpPolicyNoticesTable {
  policyVersionId: string;
  partnerId: string;
  customerId: string;
  notificationIds: ColumnType<string[], string[], string[]>;
  withdrawalNotificationIds: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  createdAt: ColumnType<Date, Date | string | undefined, never>;
}
