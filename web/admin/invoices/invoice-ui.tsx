import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Badge, Group, Select, Text, TextInput, type MantineSize } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { api } from '../../shared/api.ts';
import { INVOICE_STATUS_COLORS, INVOICE_TYPE_COLORS } from '../../shared/invoice-colors.ts';
import { formatMoney, isNegative } from '../../shared/money.ts';
import { customerOptions } from '../../shared/customer-options.ts';
import { REFUND_BADGE_COLOR, refundBadge } from '../../shared/refund-badge.ts';
import { useSession } from '../../shared/session.tsx';
import type { Page } from '../../shared/types.ts';
import type { CustomerRow } from '../customer/customer-types.ts';
import { statusLabel, typeLabel, type InvoiceStatus, type InvoiceSummary, type InvoiceType } from './invoice-types.ts';

const TYPE_COLORS: Record<InvoiceType, string> = INVOICE_TYPE_COLORS;
const STATUS_COLORS: Record<InvoiceStatus, string> = INVOICE_STATUS_COLORS;

export function InvoiceTypeBadge({ type, size = 'sm' }: { type: InvoiceType; size?: MantineSize }) {
  return (
    <Badge color={TYPE_COLORS[type] ?? 'gray'} variant="outline" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content' }}>
      {typeLabel(type)}
    </Badge>
  );
}

export function InvoiceStatusBadge({ status, size = 'sm' }: { status: InvoiceStatus; size?: MantineSize }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content' }} data-testid="invoice-status">
      {statusLabel(status)}
    </Badge>
  );
}

type BadgeFacts = 'status' | 'overdue' | 'informational' | 'currency' | 'amountPaid' | 'amountRefunded' | 'amountCreditedToPoints';

/** Status, plus Refunded or Partly refunded (credit notes gave money back), Overdue and Informational where they apply. */
export function InvoiceBadges({ invoice, size = 'sm' }: { invoice: Pick<InvoiceSummary, BadgeFacts>; size?: MantineSize }) {
  const refund = refundBadge(invoice);
  return (
    <Group gap={4} wrap="nowrap">
      <InvoiceStatusBadge status={invoice.status} size={size} />
      {refund ? (
        <Badge color={REFUND_BADGE_COLOR} variant="light" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content' }} title={refund.title} data-testid="invoice-refund">
          {refund.label}
        </Badge>
      ) : null}
      {invoice.overdue ? (
        <Badge color="red" variant="filled" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content', overflow: 'visible' }}>
          Overdue
        </Badge>
      ) : null}
      {invoice.informational ? (
        <Badge color="gray" variant="outline" radius="sm" size={size} tt="none" style={{ minWidth: 'max-content' }} title="Already paid from points; for information, not payable">
          Informational
        </Badge>
      ) : null}
    </Group>
  );
}

/** An amount from the API, digits as they came, right-aligned figures. */
export function Amount({ amount, currency, strong, testId, dimZero }: { amount: string; currency?: string; strong?: boolean; testId?: string; dimZero?: boolean }) {
  const zero = /^-?0(\.0+)?$/.test(amount);
  return (
    <Text
      size="sm"
      component="span"
      fw={strong ? 600 : undefined}
      c={isNegative(amount) ? 'red.7' : dimZero && zero ? 'dimmed' : undefined}
      data-testid={testId}
      style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}
    >
      {formatMoney(amount, currency)}
    </Text>
  );
}

export interface PickedCustomer {
  id: string;
  name: string;
  currency: string;
}

/**
 * Choose a customer by typing part of its name (GET /api/v1/customers?q=, the Customer app). Staff without the Customer
 * app cannot search customers: they type the customer's id instead.
 */
export function CustomerPicker({
  label, value, onChange, error, placeholder, required, w, clearable = true,
}: {
  label: string;
  value: PickedCustomer | null;
  onChange: (c: PickedCustomer | null) => void;
  error?: string;
  placeholder?: string;
  required?: boolean;
  w?: number | string;
  clearable?: boolean;
}) {
  const session = useSession();
  const canSearch = session.apps.includes('customer');
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const typed = value && search === value.name ? '' : debounced;
  const found = useQuery({
    queryKey: ['customers', 'picker', typed],
    queryFn: ({ signal }) => api.get<Page<CustomerRow>>('/api/v1/customers', { q: typed, limit: 20 }, signal),
    enabled: canSearch,
    placeholderData: keepPreviousData,
  });
  const options = useMemo(() => {
    const rows = (found.data?.data ?? []).map((c) => ({ id: c.id, name: c.name, currency: c.currency }));
    if (value && !rows.some((r) => r.id === value.id)) rows.unshift(value);
    return rows;
  }, [found.data, value]);

  if (!canSearch) {
    return (
      <TextInput
        label={label}
        description="The customer's id (cus_…)"
        placeholder="cus_…"
        value={value?.id ?? ''}
        onChange={(e) => {
          const id = e.currentTarget.value.trim();
          onChange(id ? { id, name: id, currency: value?.currency ?? '' } : null);
        }}
        error={error}
        required={required}
        w={w}
      />
    );
  }
  return (
    <Select
      label={label}
      placeholder={placeholder ?? 'Type to search'}
      data={customerOptions(options)}
      value={value?.id ?? null}
      onChange={(id) => {
        const c = options.find((o) => o.id === id) ?? null;
        onChange(c);
      }}
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: all }) => all}
      nothingFoundMessage={found.isFetching ? 'Searching…' : 'No customer matches'}
      clearable={clearable}
      error={error}
      required={required}
      w={w}
    />
  );
}
