import { z } from 'zod';
import type { ExpressionBuilder } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { timestamp } from '../platform/schemas.ts';
import type { Database, NotificationStatus } from '../platform/db-types.ts';
import type {} from '../topup/top-up-policy.db-types.ts';

/** How notifications are shown: one item shape for every list, with its delivery history, plus the pieces the lists share. */

export const MASK = '••••••';

/** Kinds whose subject and body carry a secret (a sign-in code or a one-time link). */
export const SECRET_KINDS: ReadonlySet<string> = new Set(['two_factor_code', 'password_reset', 'email_verification', 'invitation']);

const SIX_DIGITS = /(?<!\d)\d{6}(?!\d)/g;
// `token=` in any link (also `?access_token=`), up to the end of the query value.
const TOKEN_VALUE = /(token=)[^\s&#"'<>]+/gi;

/**
 * What partner staff may read: sign-in codes and link tokens become `••••••`. Codes are masked in the secret kinds only
 * (an invoice number may have six digits); a `token=` value is masked in every kind, since staff never need one.
 */
export function maskSecrets(kind: string, text: string): string {
  const withoutTokens = text.replace(TOKEN_VALUE, `$1${MASK}`);
  return SECRET_KINDS.has(kind) ? withoutTokens.replace(SIX_DIGITS, MASK) : withoutTokens;
}

export const historyEntrySchema = z.object({
  status: z.enum(['queued', 'retrying', 'sent', 'failed']),
  /** The failure reason for `retrying` and `failed`; the transport for `sent`. */
  detail: z.string().nullable(),
  at: timestamp,
});

export const notificationSchema = z.object({
  id: z.string(),
  kind: z.string(),
  toEmail: z.string(),
  /** Reply-To (`Name <address>` or the address): a sales notification's contact-sales address, a contact-sales message's writer. */
  replyTo: z.string().nullable(),
  customerId: z.string().nullable(),
  subject: z.string(),
  bodyText: z.string(),
  status: z.enum(['queued', 'sent', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  transport: z.string().nullable(),
  createdAt: timestamp,
  sentAt: timestamp.nullable(),
  history: z.array(historyEntrySchema),
});
export type NotificationView = z.infer<typeof notificationSchema>;

export const notificationStatus = z.enum(['queued', 'sent', 'failed']);
/** A recipient search (operator and dev mailbox): any part of the address, any case; empty means everyone. */
export const recipientSearch = z.string().trim().max(254).optional().describe('any part of the recipient address, case-insensitive');
export const notificationKind = z.string().regex(/^[a-z_]{1,60}$/, 'a notification kind such as two_factor_code');

/** The columns every list reads. */
export const NOTIFICATION_COLUMNS = [
  'id', 'partnerId', 'customerId', 'kind', 'toEmail', 'subject', 'bodyText', 'status', 'attempts', 'lastError', 'transport', 'createdAt', 'sentAt',
  'replyToEmail', 'replyToName',
] as const;

export interface NotificationRow {
  id: string;
  partnerId: string | null;
  customerId: string | null;
  kind: string;
  toEmail: string;
  subject: string;
  bodyText: string;
  replyToEmail: string | null;
  replyToName: string | null;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  transport: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

type History = NotificationView['history'];

/** Condition: the recipient address contains `part`, ignoring case (no pattern characters to escape: a plain substring). */
export function recipientContains(part: string) {
  return (eb: ExpressionBuilder<Database, 'notifications'>) =>
    eb(eb.fn<number>('strpos', [eb.fn('lower', ['notifications.toEmail']), eb.val(part.toLowerCase())]), '>', 0);
}

/**
 * The status history of a page of notifications, in one query. `partnerId` (staff) restricts it to that partner,
 * as every partner-side query does; the operator and the dev mailbox pass `undefined` (every partner).
 */
export async function loadHistory(trx: Trx, ids: readonly string[], partnerId: string | undefined): Promise<Map<string, History>> {
  const byId = new Map<string, History>();
  if (ids.length === 0) return byId;
  const rows = await trx
    .selectFrom('notificationStatusHistory')
    .select(['notificationId', 'status', 'detail', 'at'])
    .where('notificationId', 'in', ids)
    .$if(partnerId !== undefined, (q) => q.where('partnerId', '=', partnerId!))
    .orderBy('at')
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const list = byId.get(r.notificationId) ?? [];
    list.push({ status: r.status, detail: r.detail, at: r.at.toISOString() });
    byId.set(r.notificationId, list);
  }
  return byId;
}

/** A row as shown, masked for partner staff and the operator (`mask: true`) or as sent (the local dev mailbox). */
export function toView(row: NotificationRow, history: History, options: { mask: boolean }): NotificationView {
  const shown = (text: string) => (options.mask ? maskSecrets(row.kind, text) : text);
  return {
    id: row.id,
    kind: row.kind,
    toEmail: row.toEmail,
    replyTo: row.replyToEmail ? (row.replyToName ? `${row.replyToName} <${row.replyToEmail}>` : row.replyToEmail) : null,
    customerId: row.customerId,
    subject: shown(row.subject),
    bodyText: shown(row.bodyText),
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    transport: row.transport,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
    history,
  };
}

/** Fetch `limit + 1` rows, answer `limit` and the cursor (the last id shown) when there is more. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const shown = rows.slice(0, limit);
  return { rows: shown, nextCursor: shown[shown.length - 1]!.id };
}
