/**
 * The one list of audit apps and actions: what `recordAudit` may write as an event's `app` and `action`, what the
 * Audit app filters by (GET /api/v1/audit-events/catalog), and what the route-walking coverage test checks every written
 * event against. No server imports here: the web can import it too.
 *
 * An event's `app` is the part of Folio the change was made in (the staff app, or `portal` for what customers do in the
 * user portal, `auth` for signing in and out, `usage` for call traffic, `operator` for platform-level acts). An action
 * may be written by more than one app (a subscription is bought by staff in the Customer app or by the customer in the
 * portal); each app lists the actions it writes. New actions: add them here, or the coverage test fails.
 */

export const AUDIT_APPS = [
  'customer', 'product', 'invoice', 'finance', 'discount', 'settings', 'access', 'portal', 'auth', 'usage', 'audit', 'operator',
] as const;
export type AuditApp = (typeof AUDIT_APPS)[number];

export const AUDIT_APP_LABELS: Record<AuditApp, string> = {
  customer: 'Customer',
  product: 'Product',
  invoice: 'Invoice',
  finance: 'Finance',
  discount: 'Discount',
  settings: 'Portal Settings',
  access: 'Access Control',
  portal: 'Portal activity',
  auth: 'Sign-ins',
  usage: 'Usage',
  audit: 'Audit',
  operator: 'Platform',
};

const SUBSCRIPTION = [
  'subscription.purchased', 'subscription.activated', 'subscription.updated', 'subscription.add_on_added', 'subscription.add_on_changed',
  'subscription.terminated', 'subscription.reactivated', 'subscription.renewed', 'subscription.renewal_failed',
  'subscription.renewal_recovered', 'subscription.expired',
] as const;
const SERVICES = [
  'virtual_line.created', 'virtual_line.updated', 'virtual_line.removed', 'wallboard.created', 'wallboard.updated', 'wallboard.removed',
] as const;
const TOP_UP = ['top_up.pending', 'top_up.succeeded', 'top_up.failed'] as const;
const INVOICE_PAYMENT = ['invoice.payment_pending', 'invoice.payment_recorded', 'invoice.payment_failed'] as const;

export const AUDIT_ACTIONS: Readonly<Record<AuditApp, readonly string[]>> = {
  customer: [
    'customer.created', 'customer.updated', 'customer.noted', 'customer.renamed', 'member.invited', 'user.created', 'notification.resent',
    ...SUBSCRIPTION, ...SERVICES, ...TOP_UP,
  ],
  product: [
    'product.created', 'product.updated', 'product.archived', 'product.unarchived', 'product_variant.created', 'product_price.set',
    'product_price.archived', 'rate_plan.created', 'rate_plan.import_uploaded', 'rate_plan.rates_imported', 'rate_plan.rates_replaced',
  ],
  invoice: [
    'invoice.created', 'invoice.updated', 'invoice.issued', 'invoice.voided', 'invoice.resent', 'statement.generated', 'statement.generation_failed',
    ...INVOICE_PAYMENT,
  ],
  finance: [
    'credit_limit.set', 'credit_limit.expired', 'points.issued', 'points.taken_back', 'payment.recorded', 'payment.assigned', 'payment.allocated',
    'payment.reversed', 'credit_note.created', 'credit_note.updated', 'credit_note.issued', 'credit_note.voided', 'credit_note.refunded',
    'credit_note.refund_failed', 'bank_statement.imported', 'bank_statement_line.accepted', 'bank_statement_line.rejected', 'ledger_check.run', ...TOP_UP,
  ],
  discount: ['discount.created', 'discount.changed', 'discount.ended', 'discount.previewed'],
  settings: [
    'portal_config.updated', 'settings.invoicing_updated', 'top_up_policy.version_added', 'top_up_policy.version_withdrawn',
    'contact_sales.test_email_sent',
  ],
  access: [
    'staff.invited', 'staff.disabled', 'staff.enabled', 'app.granted', 'app.revoked', 'access_request.created', 'access_request.approved',
    'access_request.declined', 'api_key.created', 'api_key.revoked', 'invitation.revoked', 'invitation.accepted', 'user.created',
    'user.sign_in_released',
  ],
  portal: [
    'member.invited', 'member.removed', 'member.role_changed', 'ownership.transferred', 'invitation.accepted', 'user.sign_in_released', 'customer.updated',
    'auto_top_up.updated', 'points.low_balance_alert_changed', 'saved_card.removed', 'contact_sales.message_sent', ...SUBSCRIPTION, ...SERVICES, ...TOP_UP, ...INVOICE_PAYMENT,
  ],
  auth: [
    'auth.signed_in', 'auth.signed_out', 'auth.two_factor_code_sent', 'auth.sign_in_failed', 'auth.two_factor_failed',
    'auth.password_reset_requested', 'auth.verification_sent', 'auth.other_sessions_revoked',
    'user.created', 'user.email_verified', 'user.password_reset', 'user.password_changed', 'user.profile_updated', 'invitation.accepted',
  ],
  usage: ['usage.calls_ingested', 'usage.live_call_started', 'usage.live_call_ended', 'usage.live_call_failed'],
  audit: ['audit.retention_cut', 'audit.retention_set'],
  operator: ['partner.created'],
};

export function isAuditApp(app: string): app is AuditApp {
  return (AUDIT_APPS as readonly string[]).includes(app);
}

/** Whether `app` is in the catalog and lists `action`. */
export function isCatalogued(app: string, action: string): boolean {
  return isAuditApp(app) && AUDIT_ACTIONS[app].includes(action);
}

/** Every action of the catalog, once. */
export function allAuditActions(): string[] {
  return [...new Set(Object.values(AUDIT_ACTIONS).flat())].sort();
}

/** "invoice.payment_recorded" -> "Invoice payment recorded". */
export function actionLabel(action: string): string {
  const text = action.replace(/[._]/g, ' ').replace(/\s+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How the actor was signed in when the event was recorded (null: recorded before this was kept). */
export const AUTH_METHODS = ['password', 'password_2fa', 'api_key', 'system', 'operator'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const AUTH_METHOD_LABELS: Record<AuthMethod, string> = {
  password: 'Password',
  password_2fa: 'Password + 2FA',
  api_key: 'API key',
  system: 'System job',
  operator: 'Operator',
};

export const ACTOR_TYPES = ['user', 'api_key', 'system', 'operator'] as const;

/** The catalog as GET /api/v1/audit-events/catalog answers it. */
export function auditCatalog() {
  return {
    apps: AUDIT_APPS.map((app) => ({
      app,
      label: AUDIT_APP_LABELS[app],
      actions: AUDIT_ACTIONS[app].map((action) => ({ action, label: actionLabel(action) })),
    })),
    actorTypes: [...ACTOR_TYPES],
    authMethods: AUTH_METHODS.map((authMethod) => ({ authMethod, label: AUTH_METHOD_LABELS[authMethod] })),
  };
}
