import { Badge, Group } from '@mantine/core';
import { REFUND_BADGE_COLOR, refundBadge } from '../../shared/refund-badge.ts';
import { STATUS_COLORS, STATUS_LABELS, TYPE_COLORS, TYPE_LABELS, type InvoiceSummary } from './invoice-types.ts';

const NO_SHRINK = { minWidth: 'max-content', flex: 'none' } as const;

export function InvoiceTypeBadge({ type }: { type: InvoiceSummary['type'] }) {
  return (
    <Badge variant="outline" color={TYPE_COLORS[type]} radius="sm" tt="none" style={NO_SHRINK}>
      {TYPE_LABELS[type]}
    </Badge>
  );
}

type BadgeFacts = 'status' | 'overdue' | 'informational' | 'currency' | 'amountPaid' | 'amountRefunded' | 'amountCreditedToPoints';

/**
 * The status, plus Refunded or Partly refunded when credit notes gave money back (by refund or to points), Overdue when
 * the due date has passed with something still due, and Informational for a prepaid statement.
 */
export function InvoiceStatusBadges({ invoice }: { invoice: Pick<InvoiceSummary, BadgeFacts> }) {
  const refund = refundBadge(invoice);
  return (
    <Group gap={4} wrap="wrap">
      <Badge variant="light" color={STATUS_COLORS[invoice.status]} radius="sm" tt="none" style={NO_SHRINK}>
        {STATUS_LABELS[invoice.status]}
      </Badge>
      {refund ? (
        <Badge variant="light" color={REFUND_BADGE_COLOR} radius="sm" tt="none" style={NO_SHRINK} title={refund.title} data-testid="invoice-refund">
          {refund.label}
        </Badge>
      ) : null}
      {invoice.overdue ? (
        <Badge variant="filled" color="red" radius="sm" tt="none" style={NO_SHRINK}>
          Overdue
        </Badge>
      ) : null}
      {invoice.informational ? (
        <Badge variant="outline" color="gray" radius="sm" tt="none" style={NO_SHRINK} title="Already paid from your points: for your records">
          Informational
        </Badge>
      ) : null}
    </Group>
  );
}
