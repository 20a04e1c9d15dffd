import { Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { InvoiceLineView } from '../../src/invoices/invoice-view-types.ts';
import { formatMoney } from './money.ts';
import { titleCase } from './format.ts';
import { taxIncludedOnMonthly } from '../../src/invoices/statements/monthly-lines.ts';

const num = { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' } as const;
const TAX_CATEGORY_LABELS: Record<InvoiceLineView['taxCategory'], string> = { standard: 'Standard', zero_rated: 'Zero-rated', exempt: 'Exempt' };
const isZero = (amount: string) => /^-?0(\.0+)?$/.test(amount);

/**
 * An invoice's lines as the admin's Invoice app and the portal both show them (the same figures as the PDF): description
 * (and, for staff, what kind of line it is), quantity, unit price, discount, pre-tax amount, tax with its category and rate.
 * On a phone the quantity, unit price and discount sit under the description instead of in columns of their own, and the
 * table fits the screen: at `minWidth` it was scrolled sideways there, the amount out of sight behind the unit price.
 */
export function InvoiceLinesTable({ lines, invoiceType, showKind = false, minWidth = 640 }: {
  lines: readonly InvoiceLineView[]; invoiceType: string; showKind?: boolean; minWidth?: number;
}) {
  // Mantine's sm breakpoint, from which the quantity, unit price and discount columns are shown.
  const wide = useMediaQuery('(min-width: 48em)', undefined, { getInitialValueInEffect: false });
  return (
    <Table.ScrollContainer minWidth={wide ? minWidth : 0}>
      <Table aria-label="Invoice lines" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Description</Table.Th>
            <Table.Th visibleFrom="sm" style={{ textAlign: 'right' }}>Qty</Table.Th>
            <Table.Th visibleFrom="sm" style={{ textAlign: 'right' }}>Unit price</Table.Th>
            <Table.Th visibleFrom="sm" style={{ textAlign: 'right' }}>Discount</Table.Th>
            <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
            <Table.Th style={{ textAlign: 'right' }}>Tax</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {lines.map((l) => (
            <Table.Tr key={l.position}>
              <Table.Td>
                <Text size="sm">{l.description}</Text>
                {showKind ? <Text size="xs" c="dimmed">{titleCase(l.kind)}</Text> : null}
                {wide ? null : (
                  <Text size="xs" c="dimmed" data-testid="line-quantity-price">
                    {l.quantity} × {formatMoney(l.unitPrice)}
                    {isZero(l.discount) ? '' : `, −${formatMoney(l.discount)} discount`}
                  </Text>
                )}
              </Table.Td>
              <Table.Td visibleFrom="sm" style={{ textAlign: 'right', ...num }}>{l.quantity}</Table.Td>
              <Table.Td visibleFrom="sm" style={{ textAlign: 'right', ...num }}>{formatMoney(l.unitPrice)}</Table.Td>
              <Table.Td visibleFrom="sm" style={{ textAlign: 'right', ...num }}>
                <Text size="sm" span c={isZero(l.discount) ? 'dimmed' : undefined}>{isZero(l.discount) ? '—' : `−${formatMoney(l.discount)}`}</Text>
              </Table.Td>
              <Table.Td style={{ textAlign: 'right', ...num }}>
                <Text size="sm" span fw={600}>{formatMoney(l.amount)}</Text>
              </Table.Td>
              <Table.Td style={{ textAlign: 'right', ...num }}>
                <Text size="sm" span c={isZero(l.tax) ? 'dimmed' : undefined}>{formatMoney(l.tax)}</Text>
                {/* Wraps when its column is narrow (a phone): "Tax incl. (paid from points)" on one line pushed the table past the screen. */}
                <Text size="xs" c="dimmed" style={{ whiteSpace: 'normal' }}>
                  {taxIncludedOnMonthly(invoiceType, l.kind)
                    ? 'Tax incl. (paid from points)'
                    : `${TAX_CATEGORY_LABELS[l.taxCategory]}${l.taxCategory === 'standard' ? ` ${(l.taxRateBps / 100).toString()}%` : ''}`}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
