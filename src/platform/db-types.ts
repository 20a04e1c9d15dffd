import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type AppName = 'customer' | 'product' | 'invoice' | 'finance' | 'audit' | 'discount' | 'settings' | 'access';
export type UserKind = 'operator' | 'staff' | 'customer';
export type CustomerRole = 'owner' | 'admin' | 'member' | 'guest';

export interface PortalTabs {
  invoices: boolean;
  audit: boolean;
  services: boolean;
  points: boolean;
}

export interface PartnersTable {
  id: string;
  name: string;
  slug: string;
  defaultCurrency: string;
  status: 'active' | 'suspended';
  createdAt: CreatedAt;
}

export interface PartnerSettingsTable {
  partnerId: string;
  staffTwoFactorRequired: Generated<boolean>;
  portalTabs: ColumnType<PortalTabs, string | undefined, string>;
  contactSalesEmail: string | null;
  updatedAt: Timestamp;
}

export interface CustomersTable {
  id: string;
  partnerId: string;
  name: string;
  currency: string;
  status: Generated<'active' | 'suspended' | 'closed'>;
  createdAt: CreatedAt;
}

export interface UsersTable {
  id: string;
  kind: UserKind;
  partnerId: string | null;
  customerId: string | null;
  customerRole: CustomerRole | null;
  email: string;
  name: string;
  passwordHash: string | null;
  status: Generated<'invited' | 'active' | 'disabled'>;
  emailVerifiedAt: Timestamp | null;
  twoFactorEnabled: Generated<boolean>;
  failedLoginCount: Generated<number>;
  lockedUntil: Timestamp | null;
  lastLoginAt: Timestamp | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export interface AppGrantsTable {
  partnerId: string;
  userId: string;
  app: AppName;
  grantedBy: string | null;
  grantedAt: CreatedAt;
}

export interface AccessRequestsTable {
  id: string;
  partnerId: string;
  userId: string;
  app: AppName;
  note: string | null;
  status: Generated<'pending' | 'approved' | 'declined' | 'withdrawn'>;
  decidedBy: string | null;
  decidedAt: Timestamp | null;
  decisionNote: string | null;
  createdAt: CreatedAt;
}

export interface InvitationsTable {
  id: string;
  partnerId: string;
  customerId: string | null;
  userId: string;
  email: string;
  tokenHash: string;
  invitedBy: string | null;
  expiresAt: Timestamp;
  acceptedAt: Timestamp | null;
  revokedAt: Timestamp | null;
  createdAt: CreatedAt;
}

export interface UserTokensTable {
  id: string;
  partnerId: string | null;
  userId: string;
  purpose: 'password_reset' | 'email_verification';
  tokenHash: string;
  expiresAt: Timestamp;
  usedAt: Timestamp | null;
  createdAt: CreatedAt;
}

export interface SessionsTable {
  id: string;
  userId: string;
  partnerId: string | null;
  tokenHash: string;
  csrfToken: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: CreatedAt;
  lastSeenAt: Timestamp;
  idleExpiresAt: Timestamp;
  absoluteExpiresAt: Timestamp;
  revokedAt: Timestamp | null;
}

export interface LoginChallengesTable {
  id: string;
  userId: string;
  partnerId: string | null;
  codeHash: string;
  attempts: Generated<number>;
  expiresAt: Timestamp;
  consumedAt: Timestamp | null;
  ip: string | null;
  createdAt: CreatedAt;
}

export interface LoginAttemptsTable {
  id: Generated<string>;
  email: string;
  ip: string;
  succeeded: boolean;
  at: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  partnerId: string;
  name: string;
  tokenPrefix: string;
  tokenHash: string;
  apps: AppName[];
  createdBy: string | null;
  createdAt: CreatedAt;
  lastUsedAt: Timestamp | null;
  revokedAt: Timestamp | null;
}

export type ActorType = 'user' | 'api_key' | 'system' | 'operator';

export interface AuditEventsTable {
  id: string;
  partnerId: string | null;
  customerId: string | null;
  seq: ColumnType<string, never, never>;
  occurredAt: CreatedAt;
  actorType: ActorType;
  actorId: string | null;
  actorLabel: string | null;
  app: string;
  action: string;
  targetType: string;
  targetId: string | null;
  changes: ColumnType<Record<string, { before?: unknown; after?: unknown }>, string, never>;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  prevHash: ColumnType<string, never, never>;
  hash: ColumnType<string, never, never>;
}

export type NotificationStatus = 'queued' | 'sent' | 'failed';

export interface NotificationsTable {
  id: string;
  partnerId: string | null;
  customerId: string | null;
  userId: string | null;
  toEmail: string;
  kind: string;
  subject: string;
  bodyText: string;
  status: Generated<NotificationStatus>;
  transport: string | null;
  attempts: Generated<number>;
  lastError: string | null;
  createdAt: CreatedAt;
  sentAt: Timestamp | null;
}

export interface NotificationStatusHistoryTable {
  id: Generated<string>;
  notificationId: string;
  partnerId: string | null;
  customerId: string | null;
  status: NotificationStatus | 'retrying';
  detail: string | null;
  at: CreatedAt;
}

export interface Database extends LedgerDatabase, UsageDatabase {
  partners: PartnersTable;
  partnerSettings: PartnerSettingsTable;
  customers: CustomersTable;
  users: UsersTable;
  appGrants: AppGrantsTable;
  accessRequests: AccessRequestsTable;
  invitations: InvitationsTable;
  userTokens: UserTokensTable;
  sessions: SessionsTable;
  loginChallenges: LoginChallengesTable;
  loginAttempts: LoginAttemptsTable;
  apiKeys: ApiKeysTable;
  auditEvents: AuditEventsTable;
  notifications: NotificationsTable;
  notificationStatusHistory: NotificationStatusHistoryTable;
}

// ---- Ledger (migration 0010) ----
export type AccountCode =
  | 'bank' | 'card_clearing' | 'receivable' | 'points' | 'unapplied' | 'unassigned' | 'tax_payable' | 'platform_payable'
  | 'revenue:usage' | 'revenue:subscription' | 'revenue:one_time' | 'revenue:fees' | 'sales_returns'
  | 'cost:usage' | 'cost:subscription' | 'refunds_payable';
export type AccountKind = 'asset' | 'liability' | 'revenue' | 'contra_revenue' | 'expense';

/** bigint columns arrive from pg as strings; convert with BigInt() at the repository edge. */
type BigIntColumn = ColumnType<string, bigint | string, bigint | string>;

export interface LedgerAccountsTable {
  id: string;
  partnerId: string;
  currency: string;
  code: AccountCode;
  customerId: string | null;
  kind: AccountKind;
  balanceMicros: ColumnType<string, never, never>;
  /** The count and sum of the account's `call` postings, kept by the postings' trigger (the feed's calls total; migration 0050). */
  callPostings: ColumnType<string, never, never>;
  callTotalMicros: ColumnType<string, never, never>;
  createdAt: CreatedAt;
}

/** Every account code with its one kind (migration 0063: accounts reference it by code and kind); read-only for the app. */
export interface LedgerAccountCodesTable {
  code: ColumnType<AccountCode, never, never>;
  kind: ColumnType<AccountKind, never, never>;
  perCustomer: ColumnType<boolean, never, never>;
}

export interface JournalEntriesTable {
  id: string;
  partnerId: string;
  currency: string;
  customerId: string | null;
  kind: string;
  causeType: string;
  causeId: string;
  description: string;
  reversesEntryId: string | null;
  auditEventId: string | null;
  postedAt: CreatedAt;
}

export interface PostingsTable {
  id: Generated<string>;
  entryId: string;
  partnerId: string;
  currency: string;
  accountId: string;
  customerId: string | null;
  amountMicros: BigIntColumn;
  balanceAfterMicros: BigIntColumn | null;
  /** Customer postings only: what the transactions feed shows (docs/adr/0011). */
  kind: string | null;
  description: string | null;
  causeType: string | null;
  causeId: string | null;
  /** Generated from `kind` for customer postings: call, subscription, top_up, purchase, credit, other. */
  feedType: ColumnType<string | null, never, never>;
  postedAt: CreatedAt;
}

export interface PointsFeedTotalsTable {
  accountId: string;
  feedType: string;
  partnerId: string;
  customerId: string;
  postings: ColumnType<string, never, never>;
  totalMicros: ColumnType<string, never, never>;
}

export interface WalletsTable {
  partnerId: string;
  customerId: string;
  currency: string;
  pointsAccountId: string;
  reservedMicros: ColumnType<string, bigint | string | undefined, bigint | string>;
  creditLimitMicros: ColumnType<string, bigint | string | undefined, bigint | string>;
  creditLimitExpiresAt: Timestamp | null;
  updatedAt: Timestamp;
}

export interface WalletReservationsTable {
  id: string;
  partnerId: string;
  customerId: string;
  currency: string;
  amountMicros: BigIntColumn;
  causeType: string;
  causeId: string;
  status: ColumnType<'active' | 'settled' | 'released' | 'expired', 'active' | undefined, 'settled' | 'released' | 'expired'>;
  expiresAt: Timestamp;
  settledEntryId: string | null;
  createdAt: CreatedAt;
  closedAt: Timestamp | null;
}

export interface LedgerDatabase {
  pointsFeedTotals: PointsFeedTotalsTable;
  walletReservations: WalletReservationsTable;
  ledgerAccounts: LedgerAccountsTable;
  ledgerAccountCodes: LedgerAccountCodesTable;
  journalEntries: JournalEntriesTable;
  postings: PostingsTable;
  wallets: WalletsTable;
}

// ---- Audit chain heads (migration 0001; readable by the app role since 0003) ----
export interface AuditChainHeadsTable {
  /** The partner id, or 'platform' for events without a partner. */
  chainKey: string;
  lastSeq: ColumnType<string, never, never>;
  lastHash: ColumnType<string, never, never>;
}

export interface Database {
  auditChainHeads: AuditChainHeadsTable;
}

// ---- Idempotency keys (migration 0012) ----
export type IdempotencyPrincipalKind = 'operator' | 'staff' | 'api_key' | 'customer';
export type IdempotencyKeyStatus = 'in_progress' | 'completed';

export interface IdempotencyKeysTable {
  id: ColumnType<string, never, never>;
  partnerId: string | null;
  customerId: string | null;
  principalKind: IdempotencyPrincipalKind;
  principalId: string;
  key: string;
  requestMethod: string;
  requestRoute: string;
  requestHash: string;
  status: Generated<IdempotencyKeyStatus>;
  claimToken: string | null;
  claimedAt: Timestamp;
  responseStatus: number | null;
  responseContentType: string | null;
  responseBody: Buffer | null;
  createdAt: Timestamp;
  completedAt: Timestamp | null;
  expiresAt: Timestamp;
}

export interface Database {
  idempotencyKeys: IdempotencyKeysTable;
}

// ---- Usage (migration 0013) ----
export interface RatePlansTable {
  id: string;
  partnerId: string;
  name: string;
  currency: string;
  firstIncrementSeconds: number;
  nextIncrementSeconds: number;
  minimumChargeMicros: ColumnType<string, bigint | string | undefined, bigint | string>;
  whenInsufficient: ColumnType<'reject' | 'use_credit_limit', 'reject' | 'use_credit_limit' | undefined, 'reject' | 'use_credit_limit'>;
  isDefault: ColumnType<boolean, boolean | undefined, boolean>;
  createdAt: CreatedAt;
}

export interface RatesTable {
  ratePlanId: string;
  partnerId: string;
  prefix: string;
  description: string | null;
  pricePerMinuteMicros: ColumnType<string, bigint | string, bigint | string>;
  costPerMinuteMicros: ColumnType<string, bigint | string, bigint | string>;
  /** ADR 0032 (migration 0057): `zero_rated` calls pay no tax. */
  taxCategory: ColumnType<RateTaxCategory, RateTaxCategory | undefined, RateTaxCategory>;
}

/** What a call to a rate's prefix pays in tax (migration 0057). */
export type RateTaxCategory = 'standard' | 'zero_rated';

export interface UsageCallsTable {
  id: string;
  partnerId: string;
  customerId: string;
  callId: string;
  fromNumber: string;
  toNumber: string;
  direction: 'outbound' | 'inbound';
  startedAt: ColumnType<Date, Date | string, never>;
  durationSeconds: number;
  billedSeconds: number;
  prefix: string | null;
  currency: string;
  priceMicros: ColumnType<string, bigint | string, never>;
  costMicros: ColumnType<string, bigint | string, never>;
  /** Tax charged with the call (ADR 0032): the points paid price + tax. */
  taxMicros: ColumnType<string, bigint | string | undefined, never>;
  /** The partner's tax rate the call was charged at. */
  taxRateBps: ColumnType<number, number | undefined, never>;
  /** Rated on a zero-rated rate (migration 0057): no tax, `taxRateBps` 0. */
  zeroRated: ColumnType<boolean, boolean | undefined, never>;
  entryId: string | null;
  createdAt: CreatedAt;
}

export interface UsageDatabase {
  ratePlans: RatePlansTable;
  rates: RatesTable;
  usageCalls: UsageCallsTable;
}

// ---- Card gateway sandbox (migration 0011; src/gateway/sandbox.ts). Amounts in the currency's minor units. ----
export type GatewaySandboxOutcome = 'success' | 'declined' | 'insufficient_funds' | 'delayed' | 'delayed_insufficient_funds';

export interface GatewaySandboxRequestsTable {
  idempotencyKey: string;
  operation: 'create_customer' | 'save_card' | 'charge' | 'refund';
  requestHash: string;
  response: ColumnType<unknown, string, never>;
  createdAt: CreatedAt;
}

export interface GatewaySandboxCustomersTable {
  id: string;
  reference: string;
  createdAt: CreatedAt;
}

export interface GatewaySandboxCardsTable {
  id: string;
  customerId: string;
  outcome: GatewaySandboxOutcome;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: CreatedAt;
}

export interface GatewaySandboxChargesTable {
  id: string;
  customerId: string | null;
  cardId: string | null;
  outcome: GatewaySandboxOutcome;
  status: 'succeeded' | 'declined' | 'insufficient_funds' | 'pending';
  failureReason: string | null;
  amountMinor: ColumnType<string, bigint | string, bigint | string>;
  currency: string;
  refundedMinor: ColumnType<string, bigint | string | undefined, bigint | string>;
  description: string;
  metadata: ColumnType<Record<string, string>, string, string>;
  settleAt: Timestamp | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export interface GatewaySandboxRefundsTable {
  id: string;
  chargeId: string;
  amountMinor: ColumnType<string, bigint | string, never>;
  currency: string;
  status: 'succeeded';
  createdAt: CreatedAt;
}

export interface GatewaySandboxEventsTable {
  seq: ColumnType<string, never, never>;
  id: string;
  type: 'charge.succeeded' | 'charge.failed' | 'refund.succeeded';
  payload: string;
  deliverAfter: Timestamp;
  deliveredAt: Timestamp | null;
  attempts: Generated<number>;
  lastError: string | null;
  createdAt: CreatedAt;
}

export interface Database {
  gatewaySandboxRequests: GatewaySandboxRequestsTable;
  gatewaySandboxCustomers: GatewaySandboxCustomersTable;
  gatewaySandboxCards: GatewaySandboxCardsTable;
  gatewaySandboxCharges: GatewaySandboxChargesTable;
  gatewaySandboxRefunds: GatewaySandboxRefundsTable;
  gatewaySandboxEvents: GatewaySandboxEventsTable;
}

// ---- Top-up, invoices, saved cards (migration 0014; src/topup, src/invoices) ----
export type InvoiceType = 'purchase' | 'monthly' | 'top_up';
export type InvoiceStatus = 'draft' | 'awaiting_payment' | 'partially_paid' | 'paid' | 'void';
export type TopUpStatus = 'pending' | 'succeeded' | 'failed';
export type GatewayName = 'sandbox' | 'stripe';

/**
 * A calendar date column (`date`, UTC day), written as `YYYY-MM-DD`. pg would read it as a local-midnight Date, so it is
 * typed `unknown` when selected: select it as text (`sql<string>\`col::text\``, src/topup/dates.ts).
 */
type DateColumnNullable = ColumnType<unknown, string | null | undefined, string | null>;

export interface TopUpPoliciesTable {
  partnerId: string;
  currency: string;
  effectiveFrom: ColumnType<unknown, string, never>;
  minimumMicros: ColumnType<string, bigint | string, never>;
  feeThresholdMicros: ColumnType<string, bigint | string, never>;
  feeMicros: ColumnType<string, bigint | string, never>;
  createdBy: string | null;
  createdAt: CreatedAt;
}

export interface InvoicesTable {
  id: string;
  partnerId: string;
  customerId: string;
  type: InvoiceType;
  status: InvoiceStatus;
  number: string | null;
  currency: string;
  subtotalMicros: BigIntColumn;
  taxMicros: ColumnType<string, bigint | string | undefined, bigint | string>;
  totalMicros: BigIntColumn;
  amountDueMicros: BigIntColumn;
  issuedAt: Timestamp | null;
  dueAt: Timestamp | null;
  paidAt: Timestamp | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export interface InvoiceLinesTable {
  id: Generated<string>;
  invoiceId: string;
  partnerId: string;
  customerId: string;
  position: number;
  kind: string;
  description: string;
  /** numeric(18,6) since migration 0027: read as a decimal string (`"1.500000"`). */
  quantity: ColumnType<string, number | string | undefined, never>;
  unitAmountMicros: ColumnType<string, bigint | string, never>;
  amountMicros: ColumnType<string, bigint | string, never>;
  taxMicros: ColumnType<string, bigint | string | undefined, never>;
}

export interface SavedCardsTable {
  id: string;
  partnerId: string;
  customerId: string;
  gateway: GatewayName;
  gatewayCustomerRef: string;
  methodRef: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  createdBy: string | null;
  createdAt: CreatedAt;
  removedAt: Timestamp | null;
}

export interface TopUpsTable {
  id: string;
  partnerId: string;
  customerId: string;
  userId: string | null;
  currency: string;
  amountMicros: ColumnType<string, bigint | string, never>;
  feeMicros: ColumnType<string, bigint | string, never>;
  status: ColumnType<TopUpStatus, TopUpStatus | undefined, TopUpStatus>;
  auto: ColumnType<boolean, boolean | undefined, never>;
  autoForDate: ColumnType<unknown, string | null | undefined, never>;
  policyEffectiveFrom: ColumnType<unknown, string | null | undefined, never>;
  gateway: GatewayName;
  savedCardId: string | null;
  requestKey: string | null;
  chargeRef: string | null;
  invoiceId: string | null;
  entryId: string | null;
  failureCode: string | null;
  failureReason: string | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
  completedAt: Timestamp | null;
  /** When a portal retry last sent the charge again (migration 0075); null when it never was. */
  resumedAt: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AutoTopUpSettingsTable {
  partnerId: string;
  customerId: string;
  currency: string;
  enabled: boolean;
  thresholdMicros: BigIntColumn;
  amountMicros: BigIntColumn;
  savedCardId: string | null;
  lastAttemptedOn: DateColumnNullable;
  updatedBy: string | null;
  updatedAt: Timestamp;
}

export interface Database {
  topUpPolicies: TopUpPoliciesTable;
  invoices: InvoicesTable;
  invoiceLines: InvoiceLinesTable;
  savedCards: SavedCardsTable;
  topUps: TopUpsTable;
  autoTopUpSettings: AutoTopUpSettingsTable;
}

// ---- Finance and usage, second part (migration 0015; src/finance, src/products, src/usage/live-calls*) ----
export interface RatePlansTable {
  ratesVersion: ColumnType<number, number | undefined, number>;
  ratesUpdatedAt: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type LiveCallStatus = 'active' | 'ended' | 'failed';

export interface LiveCallsTable {
  id: string;
  partnerId: string;
  customerId: string;
  callId: string;
  fromNumber: string;
  toNumber: string;
  direction: 'outbound' | 'inbound';
  startedAt: ColumnType<Date, Date | string, never>;
  currency: string;
  ratePlanId: string;
  prefix: string | null;
  pricePerMinuteMicros: ColumnType<string, bigint | string, never>;
  costPerMinuteMicros: ColumnType<string, bigint | string, never>;
  firstIncrementSeconds: number;
  nextIncrementSeconds: number;
  minimumChargeMicros: ColumnType<string, bigint | string, never>;
  useCreditLimit: boolean;
  /** The partner's tax rate when the call started (ADR 0032): the hold and the charge add it to the price. */
  taxRateBps: ColumnType<number, number | undefined, never>;
  /** Its rate was zero-rated at start (migration 0057): `taxRateBps` is then 0. */
  zeroRated: ColumnType<boolean, boolean | undefined, never>;
  maxSeconds: number;
  coveredSeconds: number;
  holdMicros: ColumnType<string, bigint | string, never>;
  reservationId: string | null;
  status: ColumnType<LiveCallStatus, LiveCallStatus | undefined, LiveCallStatus>;
  durationSeconds: number | null;
  billedSeconds: number | null;
  priceMicros: ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;
  costMicros: ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;
  taxMicros: ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;
  chargedElsewhere: ColumnType<boolean, boolean | undefined, boolean>;
  entryId: string | null;
  createdAt: CreatedAt;
  closedAt: Timestamp | null;
}

export interface Database {
  liveCalls: LiveCallsTable;
}

// ---- Low balance alerts (migration 0064; src/wallet/low-balance*.ts) ----
export type LowBalanceAlertState = 'above' | 'alerted';

export interface LowBalanceAlertsTable {
  partnerId: string;
  customerId: string;
  currency: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  /** Null: the currency's default (LOW_BALANCE_DEFAULT_MICROS). */
  thresholdMicros: BigIntColumn | null;
  state: LowBalanceAlertState;
  changedAt: Timestamp;
  updatedBy: string | null;
}

export interface Database {
  lowBalanceAlerts: LowBalanceAlertsTable;
}
