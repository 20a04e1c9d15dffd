/**
 * What the customer portal's Audit section may show, per action: the type it is filed under (the section's filter) and
 * the fields of its before/after that a customer may read. An action not listed here is never shown on the portal
 * (staff notes, the provider's settings, ...); a field not listed for its action is left out (costs, margins, staff
 * remarks, internal ids). The allow-list is the rule; the deny pattern below is a second guard for nested values.
 */
export const PORTAL_AUDIT_TYPES = [
  'sign_in', 'members', 'account', 'subscriptions', 'virtual_lines', 'wallboards', 'top_ups', 'invoice_payments',
] as const;
export type PortalAuditType = (typeof PORTAL_AUDIT_TYPES)[number];

export const PORTAL_AUDIT_TYPE_LABELS: Record<PortalAuditType, string> = {
  sign_in: 'Sign-ins and security',
  members: 'Members and roles',
  account: 'Organisation',
  subscriptions: 'Subscriptions',
  virtual_lines: 'Virtual lines',
  wallboards: 'Wallboards',
  top_ups: 'Top-ups and points',
  invoice_payments: 'Invoice payments',
};

export interface PortalActionRule {
  type: PortalAuditType;
  /** Change fields shown as they are. */
  fields: readonly string[];
  /** Change fields holding a user id of the organisation: shown under the given name, as the person's name. */
  people?: Readonly<Record<string, string>>;
}

const VIRTUAL_LINE = ['number', 'name', 'destination', 'businessHours', 'status'];
const WALLBOARD = ['name', 'queues', 'widgets', 'refreshIntervalSeconds', 'status'];
const TOP_UP = ['amount', 'fee', 'currency', 'auto', 'status', 'invoiceNumber', 'failureReason'];
const INVOICE_PAYMENT = ['invoiceNumber', 'amount', 'points', 'card', 'currency', 'status', 'failureReason', 'pointsNotTaken'];
const RENEWAL = ['currentPeriodEnd', 'total', 'currency', 'invoiceNumber', 'subscriptions', 'renewalFailureReason', 'outcome'];

export const PORTAL_ACTIONS: Readonly<Record<string, PortalActionRule>> = {
  'auth.signed_in': { type: 'sign_in', fields: [] },
  'auth.signed_out': { type: 'sign_in', fields: [] },
  'auth.other_sessions_revoked': { type: 'sign_in', fields: ['otherSessions'] },
  'auth.two_factor_code_sent': { type: 'sign_in', fields: [] },
  'auth.sign_in_failed': { type: 'sign_in', fields: ['reason'] },
  'auth.two_factor_failed': { type: 'sign_in', fields: ['attempt'] },
  'auth.password_reset_requested': { type: 'sign_in', fields: [] },
  'auth.verification_sent': { type: 'sign_in', fields: [] },
  'user.password_reset': { type: 'sign_in', fields: [] },
  'user.password_changed': { type: 'sign_in', fields: ['otherSessions'] },
  'user.email_verified': { type: 'sign_in', fields: ['emailVerified'] },
  'user.profile_updated': { type: 'sign_in', fields: ['name', 'twoFactorEnabled'] },

  'user.created': { type: 'members', fields: ['email', 'role'] },
  'member.invited': { type: 'members', fields: ['email', 'name', 'role', 'expiresAt'] },
  'invitation.accepted': { type: 'members', fields: ['name', 'status', 'emailVerified'] },
  'member.role_changed': { type: 'members', fields: ['role'] },
  'member.removed': { type: 'members', fields: ['status'] },
  'user.sign_in_released': { type: 'members', fields: [] },
  'ownership.transferred': { type: 'members', fields: ['newOwnerRole'], people: { ownerId: 'owner' } },

  'customer.created': { type: 'account', fields: ['name', 'currency'] },
  'customer.updated': { type: 'account', fields: ['name', 'currency', 'status', 'billingName', 'billingEmail', 'billingPhone', 'billingAddress'] },
  'contact_sales.message_sent': { type: 'account', fields: ['subject'] },

  'subscription.purchased': {
    type: 'subscriptions',
    fields: ['product', 'variant', 'cycle', 'quantity', 'currency', 'price', 'activationFee', 'tax', 'total', 'status', 'paidWith'],
  },
  'subscription.activated': { type: 'subscriptions', fields: ['status', 'invoiceNumber', 'currentPeriodStart', 'currentPeriodEnd'] },
  'subscription.updated': { type: 'subscriptions', fields: ['autoRenew', 'renewByCard'] },
  'subscription.renewed': { type: 'subscriptions', fields: RENEWAL },
  'subscription.renewal_failed': { type: 'subscriptions', fields: RENEWAL },
  'subscription.renewal_recovered': { type: 'subscriptions', fields: RENEWAL },
  'subscription.reactivated': { type: 'subscriptions', fields: ['status', 'currentPeriodStart', 'currentPeriodEnd', 'invoiceNumber', 'total'] },
  'subscription.expired': { type: 'subscriptions', fields: ['status', 'currentPeriodEnd'] },
  'subscription.terminated': {
    type: 'subscriptions',
    fields: ['status', 'refundRule', 'refundMonths', 'refundPrice', 'refundTax', 'refundTotal', 'refundWithheld', 'voidedInvoice', 'creditedInvoice'],
  },
  'subscription.add_on_added': { type: 'subscriptions', fields: ['addOn', 'quantity', 'charged', 'days'] },
  'subscription.add_on_changed': { type: 'subscriptions', fields: ['addOn', 'quantity', 'pendingQuantity', 'charged', 'days'] },

  'virtual_line.created': { type: 'virtual_lines', fields: VIRTUAL_LINE },
  'virtual_line.updated': { type: 'virtual_lines', fields: VIRTUAL_LINE },
  'virtual_line.removed': { type: 'virtual_lines', fields: VIRTUAL_LINE },
  'wallboard.created': { type: 'wallboards', fields: WALLBOARD },
  'wallboard.updated': { type: 'wallboards', fields: WALLBOARD },
  'wallboard.removed': { type: 'wallboards', fields: WALLBOARD },

  'top_up.pending': { type: 'top_ups', fields: TOP_UP },
  'top_up.succeeded': { type: 'top_ups', fields: TOP_UP },
  'top_up.failed': { type: 'top_ups', fields: TOP_UP },
  'auto_top_up.updated': { type: 'top_ups', fields: ['enabled', 'threshold', 'amount'] },
  'points.low_balance_alert_changed': { type: 'top_ups', fields: ['enabled', 'threshold'] },
  'saved_card.removed': { type: 'top_ups', fields: ['card', 'autoTopUp'] },
  // The reason finance gave stays in the partner's trail: it is a staff remark.
  'points.issued': { type: 'top_ups', fields: ['amount', 'currency', 'points'] },
  'points.taken_back': { type: 'top_ups', fields: ['amount', 'currency', 'points'] },

  'invoice.payment_pending': { type: 'invoice_payments', fields: INVOICE_PAYMENT },
  'invoice.payment_recorded': { type: 'invoice_payments', fields: INVOICE_PAYMENT },
  'invoice.payment_failed': { type: 'invoice_payments', fields: INVOICE_PAYMENT },
  'payment.recorded': { type: 'invoice_payments', fields: ['method', 'amount', 'currency', 'receivedOn', 'reference', 'status'] },
  'payment.assigned': { type: 'invoice_payments', fields: ['amount', 'status'] },
  'payment.allocated': { type: 'invoice_payments', fields: ['allocations', 'toPoints'] },
  'payment.reversed': { type: 'invoice_payments', fields: ['status', 'amount', 'pointsTakenBack'] },
};

export function portalActionsOf(type: PortalAuditType): string[] {
  return Object.entries(PORTAL_ACTIONS).filter(([, rule]) => rule.type === type).map(([action]) => action);
}

/** Keys never shown at any depth, whatever the allow-list says. */
const PARTNER_INTERNAL_KEY = /cost|margin|remark|note|internal|staff|entryId|priceId|attempt|chargeRef/i;

/** A value with every partner-internal key removed at any depth. */
export function withoutInternalKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutInternalKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(([k]) => !PARTNER_INTERNAL_KEY.test(k)).map(([k, v]) => [k, withoutInternalKeys(v)]),
    );
  }
  return value;
}

export type Change = { before?: unknown; after?: unknown };

/**
 * The changes of one event as a customer may see them: allow-listed fields only, nested internal keys removed, and
 * user ids named by `people` replaced by the person's name (`nameOf`, `null` when unknown: never the raw id).
 */
export function portalChanges(
  action: string,
  changes: Record<string, Change>,
  nameOf: (userId: string) => string | undefined,
): Record<string, Change> {
  const rule = PORTAL_ACTIONS[action];
  if (!rule) return {};
  const out: Record<string, Change> = {};
  for (const field of rule.fields) {
    const c = changes[field];
    if (!c || typeof c !== 'object' || PARTNER_INTERNAL_KEY.test(field)) continue;
    out[field] = {
      ...('before' in c ? { before: withoutInternalKeys(c.before) } : {}),
      ...('after' in c ? { after: withoutInternalKeys(c.after) } : {}),
    };
  }
  for (const [field, shownAs] of Object.entries(rule.people ?? {})) {
    const c = changes[field];
    if (!c || typeof c !== 'object') continue;
    const name = (v: unknown) => (typeof v === 'string' ? (nameOf(v) ?? null) : null);
    out[shownAs] = { ...('before' in c ? { before: name(c.before) } : {}), ...('after' in c ? { after: name(c.after) } : {}) };
  }
  return out;
}

/** The user ids the `people` fields of these events mention (to look their names up in one query). */
export function peopleIdsOf(events: ReadonlyArray<{ action: string; changes: Record<string, Change> }>): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    for (const field of Object.keys(PORTAL_ACTIONS[e.action]?.people ?? {})) {
      const c = e.changes[field];
      if (typeof c?.before === 'string') ids.add(c.before);
      if (typeof c?.after === 'string') ids.add(c.after);
    }
  }
  return [...ids];
}
