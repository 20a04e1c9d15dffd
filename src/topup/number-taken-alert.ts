import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { moneyText } from '../money/money.ts';
import { activeAppHolders } from '../access/app-holders.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { currencyOf, type TopUpRow } from './top-up-views.ts';
import { takenTopUpNumber } from './top-up-number.ts';

/** A staff alert of top-ups held up by a taken number is mailed at most once per partner in this many minutes. */
export const NUMBER_TAKEN_ALERT_EVERY_MINUTES = 60;

/** A top-up held up because its paid invoice could not be numbered, and what became of the card payment. */
export interface HeldTopUp {
  partnerId: string;
  customerId: string;
  auto: boolean;
  currency: string;
  amountMicros: bigint;
  /** Null when it was refused before a top-up was recorded (the portal's 409). */
  topUpId: string | null;
  /** charged: kept pending with its charge; not_charged: an automatic top-up failed first; refused: the portal said no. */
  card: 'charged' | 'not_charged' | 'refused';
}

export function heldTopUp(row: TopUpRow, card: 'charged' | 'not_charged'): HeldTopUp {
  return { partnerId: row.partnerId, customerId: row.customerId, auto: row.auto, currency: row.currency, amountMicros: BigInt(row.amountMicros), topUpId: row.id, card };
}

/**
 * Tell the partner's staff who can change the top-up number format (its Portal Settings holders; its Access Control
 * holders when nobody holds that app) that top-ups are held up because the format's next number was already issued
 * (docs/adr/0041, fourth amendment): a card payment kept pending until the format changes, an automatic top-up that could
 * not be made, or a top-up the portal refused. The customer hears of it in their own answer or notice; only staff can end
 * it. At most one alert per partner every NUMBER_TAKEN_ALERT_EVERY_MINUTES: many customers may meet the same taken
 * number within minutes, and each top-up recorded is on the trail (`top_up.pending`, `top_up.failed`) with its reason.
 * Runs in partner scope (it reads the partner's staff).
 */
export async function alertStaffNumberTaken(trx: Trx, held: HeldTopUp): Promise<void> {
  const recent = await trx
    .selectFrom('notifications').select('id')
    .where('partnerId', '=', held.partnerId).where('customerId', 'is', null).where('kind', '=', 'top_up_number_taken')
    .where('createdAt', '>', sql<Date>`now() - make_interval(mins => ${NUMBER_TAKEN_ALERT_EVERY_MINUTES})`)
    .limit(1).executeTakeFirst();
  if (recent) return;
  let staff = await activeAppHolders(trx, held.partnerId, 'settings');
  if (staff.length === 0) staff = await activeAppHolders(trx, held.partnerId, 'access');
  const customer = await trx.selectFrom('customers').select('name').where('partnerId', '=', held.partnerId).where('id', '=', held.customerId).executeTakeFirstOrThrow();
  const what = `${customer.name}'s ${held.auto ? 'automatic ' : ''}top-up of ${moneyText(held.amountMicros, currencyOf(held.currency))}`;
  const taken = await takenTopUpNumber(trx, held.partnerId, new Date());
  const bodyText = [
    held.card === 'charged'
      ? `${what} was charged to their card, but it cannot be invoiced yet, so its points are not added.`
      : held.card === 'not_charged' ? `${what} could not be made, and nothing was charged.` : `${what} was refused in the portal, and nothing was charged.`,
    taken
      ? `The next top-up invoice number, ${taken.number}, was already issued on ${taken.issuedOn}: the top-up number format would issue it again.`
      : 'The next top-up invoice number had already been issued: the top-up number format would have issued it again.',
    '',
    'Change the Top-up number format in Portal Settings > Invoicing so that its next number has not been issued before.',
    held.card === 'charged'
      ? 'The top-up then completes by itself when the card gateway confirms the charge again: the points are added and its paid invoice is issued.'
      : 'Until then, customers cannot top up by card.',
    `Other top-ups held up for the same reason in the next ${NUMBER_TAKEN_ALERT_EVERY_MINUTES} minutes are not mailed again; the Audit app lists each one recorded.`,
    ...(held.topUpId ? ['', `Top-up reference: ${held.topUpId}`] : []),
  ].join('\n');
  for (const person of staff) {
    await enqueueNotification(trx, {
      partnerId: held.partnerId, customerId: null, userId: person.id, toEmail: person.email, kind: 'top_up_number_taken',
      subject: 'Top-ups are held up: the next top-up invoice number was already issued', bodyText,
    });
  }
}
