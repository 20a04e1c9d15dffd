import { Badge, Group } from '@mantine/core';
import { STATUS_COLORS, STATUS_LABELS, TYPE_COLORS, TYPE_LABELS, type InvoiceSummary } from './invoice-types.ts';

const NO_SHRINK = { minWidth: 'max-content', flex: 'none' } as const;

export function InvoiceTypeBadge({ type }: { type: InvoiceSummary['type'] }) {
  return (
    <Badge variant="outline" color={TYPE_COLORS[type]} radius="sm" tt="none" style={NO_SHRINK}>
      {TYPE_LABELS[type]}
    </Badge>
  );
}

/** The status, plus Overdue when the due date has passed with something still due, and Informational for a prepaid statement. */
export function InvoiceStatusBadges({ invoice }: { invoice: Pick<InvoiceSummary, 'status' | 'overdue' | 'informational'> }) {
  return (
    <Group gap={4} wrap="wrap">
      <Badge variant="light" color={STATUS_COLORS[invoice.status]} radius="sm" tt="none" style={NO_SHRINK}>
        {STATUS_LABELS[invoice.status]}
      </Badge>
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
