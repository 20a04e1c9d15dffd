/** Shapes of the API answers the web app reads (docs/contracts/foundation-api.md). */

export type AppName = 'customer' | 'product' | 'invoice' | 'finance' | 'audit' | 'discount' | 'settings' | 'access';
export type UserKind = 'operator' | 'staff' | 'customer';
export type CustomerRole = 'owner' | 'admin' | 'member' | 'guest';

export interface PortalTabs {
  invoices: boolean;
  audit: boolean;
  services: boolean;
  points: boolean;
}

export interface Session {
  user: { id: string; email: string; name: string; kind: UserKind; emailVerified: boolean; twoFactorEnabled?: boolean };
  partner: { id: string; name: string } | null;
  /** A closed organisation's portal reads and pays what is due; it buys, tops up and invites no more. */
  customer: { id: string; name: string; role: CustomerRole; status: 'active' | 'suspended' | 'closed' } | null;
  apps: AppName[];
  portalTabs: PortalTabs | null;
  /** The partner's contact-sales address (portal users; null when none is set: Contact sales is hidden). */
  contactSalesEmail?: string | null;
  csrfToken: string;
}

export type LoginAnswer =
  | { status: 'signed_in'; csrfToken: string }
  | { status: 'two_factor_required'; challengeId: string; expiresAt: string };

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Invitation {
  email: string;
  name: string;
  partnerName: string;
  customerName: string | null;
  expiresAt: string;
  /** The address already has a Folio account: one address holds one account, so this invitation cannot be accepted. */
  addressHasAccount: boolean;
}

export interface StaffMember {
  id: string;
  email: string;
  name: string;
  status: 'invited' | 'active' | 'disabled';
  emailVerified: boolean;
  apps: AppName[];
  lastLoginAt: string | null;
  createdAt: string;
}

export interface StaffInvitation {
  id: string;
  email: string;
  userId: string;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  expiresAt: string;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  apps: AppName[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** A staff member or another key; a key uses only the apps its maker still holds, and stops when the maker is disabled. */
  createdBy: { kind: 'user' | 'api_key'; id: string; name: string } | null;
}

export type AccessRequestStatus = 'pending' | 'approved' | 'declined' | 'withdrawn';

export interface AccessRequest {
  id: string;
  app: AppName;
  /** pending, approved or declined */
  status: AccessRequestStatus;
  note: string | null;
  user?: { id: string; email: string; name: string };
  createdAt: string;
  decidedAt: string | null;
  decisionNote: string | null;
}

export interface OperatorAccessRequest extends AccessRequest {
  partner: { id: string; name: string };
  user: { id: string; email: string; name: string };
}

export interface OperatorPartner {
  id: string;
  name: string;
  slug: string;
  status: string;
  staffCount: number;
  customerCount: number;
  createdAt: string;
}

export interface PortalConfig {
  portalTabs: PortalTabs;
  contactSalesEmail: string | null;
  contactSalesReplyToName: string | null;
  staffTwoFactorRequired: boolean;
}

export interface Customer {
  id: string;
  name: string;
  currency: string;
  status: string;
  userCount: number;
  createdAt: string;
}

export interface CustomerUser {
  id: string;
  email: string;
  name: string;
  role: CustomerRole;
  status: string;
  emailVerified: boolean;
  lastLoginAt: string | null;
}

export interface CustomerDetail extends Customer {
  users: CustomerUser[];
}

export interface StatusChange {
  status: string;
  detail: string | null;
  at: string;
}

export interface NotificationItem {
  id: string;
  kind: string;
  toEmail: string;
  subject: string;
  bodyText?: string;
  status: string;
  attempts: number;
  lastError: string | null;
  transport: string | null;
  createdAt: string;
  sentAt: string | null;
  history: StatusChange[];
  partnerId?: string | null;
  customerId?: string | null;
}

export interface DevMail {
  id: string;
  toEmail: string;
  replyTo?: string | null;
  kind: string;
  subject: string;
  bodyText: string;
  status: string;
  createdAt: string;
  history?: StatusChange[];
}

export interface AuditEvent {
  id: string;
  /** Partner-side events carry their place in the hash chain; portal events do not. */
  seq?: number;
  occurredAt: string;
  actor: { type: string; id: string | null; label: string | null };
  app: string;
  action: string;
  customerId?: string | null;
  partnerId?: string | null;
  target: { type: string; id: string | null };
  changes: Record<string, unknown> | null;
  requestId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstProblem: { eventId: string; seq: number | string; kind: 'altered' | 'missing' | 'out_of_order' } | null;
}

export interface PortalMember {
  id: string;
  email: string;
  name: string;
  role: CustomerRole;
  status: string;
  emailVerified: boolean;
}
