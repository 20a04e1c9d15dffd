/** The partner Audit API as the web app reads it (see docs: GET /api/v1/audit-events and friends). */

export interface AuditCatalogAction {
  action: string;
  label: string;
}

export interface AuditCatalog {
  apps: { app: string; label: string; actions: AuditCatalogAction[] }[];
  actorTypes: string[];
  authMethods: { authMethod: string; label: string }[];
}

export interface AuditEventView {
  id: string;
  seq: number;
  occurredAt: string;
  actor: { type: 'user' | 'api_key' | 'system' | 'operator'; id: string | null; label: string | null };
  authMethod?: string | null;
  app: string;
  action: string;
  customerId: string | null;
  target: { type: string; id: string | null };
  changes: Record<string, { before?: unknown; after?: unknown }>;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEventDetail extends Omit<AuditEventView, 'actor'> {
  actor: AuditEventView['actor'] & { name?: string | null; kind?: string | null };
  authMethodLabel?: string | null;
  appLabel?: string;
  actionLabel?: string;
  diff?: { field: string; before: unknown; after: unknown }[];
  customer?: { id: string; name: string | null; path: string | null } | null;
  links?: { type: string; id: string; label: string; path: string | null }[];
  chain?: { seq: number; hash: string; prevHash: string | null };
}

export interface AuditCount {
  count: number;
  exact: boolean;
}

export interface ChainStatus {
  status: 'verified' | 'broken' | 'not_checked_yet';
  verifiedUpTo: { seq: number; eventId: string | null; occurredAt: string | null } | null;
  checkedAt: string | null;
  /** When the newest full pass (from the chain's start or newest cut) began; null before the first. */
  fullyVerifiedAt: string | null;
  headSeq: number;
  problem: { eventId: string | null; seq: number; kind: 'altered' | 'missing' | 'out_of_order'; detail: string; detectedAt?: string | null } | null;
  cuts: { beforeSeq: number; anchorHash: string; cutAt: string; cutBy: string; removedCount: number }[];
  retentionYears: number;
}

/** The list's filters, as query parameters (also the page's URL). */
export const FILTER_KEYS = ['app', 'action', 'actorType', 'actorId', 'customerId', 'targetType', 'targetId', 'from', 'to', 'q'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type AuditFilterValues = Partial<Record<FilterKey, string>>;
