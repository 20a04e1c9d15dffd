import { useSearchParams } from 'react-router';
import { useUrlFilters } from '../../shared/url-filters.ts';
import { ActionIcon, Alert, Box, Group, SegmentedControl, Select, Stack, Text, TextInput, Tooltip, VisuallyHidden } from '@mantine/core';
import { IconCurrencyDollar, IconDownload, IconInfoCircle, IconLock } from '@tabler/icons-react';
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, LoadMore } from '../../shared/ui.tsx';
import { InvoiceDetailDialog } from './InvoiceDetailDialog.tsx';
import { PayInvoiceDialog } from './PayInvoiceDialog.tsx';
import { InvoiceStatusBadges, InvoiceTypeBadge } from './InvoiceBadges.tsx';
import {
  INVOICES_KEY, ROLE_HINT, STATUS_LABELS, TYPE_LABELS, canRolePay, invoiceName, isPayableByOwner, isTabHidden, pdfPath, type PortalInvoice,
} from './invoice-types.ts';

const PAGE_SIZE = 25;
const TYPE_FILTERS = [{ value: '', label: 'All' }, ...Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))];
const STATUS_FILTERS = (['awaiting_payment', 'partially_paid', 'paid', 'void'] as const).map((s) => ({ value: s, label: STATUS_LABELS[s] }));
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The `⤓` action: the PDF, named by the server after the invoice number. */
export function DownloadInvoiceButton({ invoice }: { invoice: Pick<PortalInvoice, 'id' | 'number'> }) {
  const name = invoiceName(invoice);
  return (
    <Tooltip label="Download PDF">
      <ActionIcon component="a" href={pdfPath(invoice.id)} download variant="subtle" aria-label={`Download ${name}`} onClick={(e) => e.stopPropagation()}>
        <IconDownload size={18} />
      </ActionIcon>
    </Tooltip>
  );
}

function RowActions({ invoice, onPay }: { invoice: PortalInvoice; onPay: () => void }) {
  const session = useSession();
  const name = invoiceName(invoice);
  const roleBlocked = !invoice.canPay && isPayableByOwner(invoice) && !canRolePay(session.customer?.role);
  return (
    <Group gap={4} wrap="nowrap" justify="flex-end">
      {invoice.canPay ? (
        <Tooltip label="Pay with points, then card">
          <ActionIcon
            variant="light"
            color="teal"
            aria-label={`Pay ${name}`}
            onClick={(e) => {
              e.stopPropagation();
              onPay();
            }}
          >
            <IconCurrencyDollar size={18} />
          </ActionIcon>
        </Tooltip>
      ) : roleBlocked ? (
        <Tooltip label={invoice.cannotPayReason ?? ROLE_HINT} multiline w={220}>
          <Text span c="dimmed" size="xs" data-testid="pay-role-hint" style={{ display: 'inline-flex', alignItems: 'center', gap: 2, whiteSpace: 'nowrap' }}>
            <IconLock size={14} aria-hidden />
            <Box component="span" visibleFrom="sm">
              Owners and admins pay
            </Box>
          </Text>
        </Tooltip>
      ) : null}
      {/* On a phone the row opens the invoice, whose dialog downloads it: the row keeps to what fits. */}
      <Box visibleFrom="sm">
        <DownloadInvoiceButton invoice={invoice} />
      </Box>
    </Group>
  );
}

/** The query parameters of the invoice filters (kept in the address; PortalHome keeps them when the section changes). */
export const INVOICE_FILTER_PARAMS = ['type', 'status', 'issuedFrom', 'issuedTo'] as const;

/**
 * Home > Invoices: every issued invoice of the organisation, filtered by type, status and issue date; a row opens its
 * detail; `$` pays a Purchase invoice (owners and admins), `⤓` downloads the PDF (everyone).
 * `?invoice=<id>` opens a detail and `?pay=<id>` a pay dialog (the top-up flow comes back to it).
 */
export function InvoicesTab() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  // The filters live in the address (as the Invoice app's list does): a reload, a shared link or another Home section and
  // back keep them (PortalHome carries INVOICE_FILTER_PARAMS over when the section changes).
  const { filter, setFilters } = useUrlFilters();
  const type = filter('type');
  const status = filter('status') || null;
  const issuedFrom = filter('issuedFrom');
  const issuedTo = filter('issuedTo');
  const setType = (v: string) => setFilters({ type: v });
  const setStatus = (v: string | null) => setFilters({ status: v ?? '' });
  const setIssuedFrom = (v: string) => setFilters({ issuedFrom: v });
  const setIssuedTo = (v: string) => setFilters({ issuedTo: v });
  const filters = {
    limit: PAGE_SIZE,
    type: type || undefined,
    status: status ?? undefined,
    issuedFrom: DATE.test(issuedFrom) ? issuedFrom : undefined,
    issuedTo: DATE.test(issuedTo) ? issuedTo : undefined,
  };
  const invoices = usePagedList<PortalInvoice>([...INVOICES_KEY, 'list'], '/api/v1/portal/invoices', filters);
  const role = session.customer?.role;
  const openId = params.get('invoice');
  const payId = params.get('pay');

  const setParam = (key: 'invoice' | 'pay', value: string | null) => {
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        next.set('tab', 'invoices');
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  };

  if (isTabHidden(invoices.error)) {
    return (
      <Alert color="gray" icon={<IconLock size={18} />} title="Invoices are hidden">
        Your provider has hidden the Invoices section.
      </Alert>
    );
  }

  const rangeError = filters.issuedFrom && filters.issuedTo && filters.issuedFrom > filters.issuedTo ? 'Must be on or after “Issued from”' : undefined;

  return (
    <Stack gap="sm">
      {!canRolePay(role) ? (
        <Alert color="gray" variant="light" icon={<IconInfoCircle size={18} />} data-testid="invoices-role-hint" title={ROLE_HINT}>
          You can see and download your organisation’s Purchase invoices; top-up invoices and monthly statements show company points, which
          only owners and admins see. Ask an owner or admin to pay a Purchase invoice.
        </Alert>
      ) : null}
      <Group gap="sm" align="flex-end" wrap="wrap">
        {canRolePay(role) ? (
          <div>
            <Text size="sm" fw={500} mb={4} id="invoice-type-label">
              Type
            </Text>
            <SegmentedControl aria-labelledby="invoice-type-label" value={type} onChange={setType} data={TYPE_FILTERS} />
          </div>
        ) : null}
        <Select label="Status" placeholder="Any status" data={STATUS_FILTERS} value={status} onChange={setStatus} clearable w={190} />
        <TextInput label="Issued from" type="date" value={issuedFrom} onChange={(e) => setIssuedFrom(e.currentTarget.value)} w={160} />
        <TextInput label="Issued to" type="date" value={issuedTo} onChange={(e) => setIssuedTo(e.currentTarget.value)} error={rangeError} w={160} />
      </Group>
      <DataTable
        label="Invoices"
        rows={invoices.rows}
        loading={invoices.isPending}
        error={invoices.error}
        onRetry={() => void invoices.refetch()}
        rowKey={(i) => i.id}
        onRowClick={(i) => setParam('invoice', i.id)}
        emptyTitle={type || status || filters.issuedFrom || filters.issuedTo ? 'No invoices match these filters' : 'No invoices yet'}
        emptyDescription="Invoices for your purchases, top-ups and monthly statements will appear here."
        footer={<LoadMore hasNextPage={invoices.hasNextPage} isFetchingNextPage={invoices.isFetchingNextPage} onLoadMore={() => void invoices.fetchNextPage()} />}
        // A phone keeps the number (the status under it), the amount due and the actions; a tablet in portrait (from
        // 768 px) adds the status and due date; issue date and total from 992 px, the type (its number's prefix says it)
        // from 1200 px: the pay button stays on screen at every width.
        columns={[
          {
            key: 'number',
            header: 'Number',
            render: (i) => (
              <>
                <Text size="sm" fw={600} ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                  {invoiceName(i)}
                </Text>
                {/* On a phone the status sits under the number (its own column is left out). */}
                <Box hiddenFrom="sm" mt={4}>
                  <InvoiceStatusBadges invoice={i} />
                </Box>
              </>
            ),
          },
          { key: 'type', header: 'Type', visibleFrom: 'lg', render: (i) => <InvoiceTypeBadge type={i.type} /> },
          { key: 'status', header: 'Status', visibleFrom: 'sm', render: (i) => <InvoiceStatusBadges invoice={i} /> },
          { key: 'issued', header: 'Issued', visibleFrom: 'md', render: (i) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDate(i.issuedAt)}</Text> },
          {
            key: 'due',
            header: 'Due',
            visibleFrom: 'sm',
            render: (i) => (
              <Text size="sm" c={i.overdue ? 'red.7' : undefined} style={{ whiteSpace: 'nowrap' }}>
                {i.informational ? '—' : formatDate(i.dueAt)}
              </Text>
            ),
          },
          { key: 'total', header: 'Total', align: 'right', visibleFrom: 'md', render: (i) => <Amount value={formatMoney(i.total, i.currency)} /> },
          { key: 'amountDue', header: 'Amount due', align: 'right', render: (i) => <Amount value={formatMoney(i.amountDue, i.currency)} strong={i.status !== 'paid' && i.status !== 'void'} /> },
          { key: 'actions', header: <VisuallyHidden>Actions</VisuallyHidden>, align: 'right', render: (i) => <RowActions invoice={i} onPay={() => setParam('pay', i.id)} /> },
        ]}
      />
      {openId ? (
        <InvoiceDetailDialog
          invoiceId={openId}
          onClose={() => setParam('invoice', null)}
          onPay={() => {
            setParams(
              (p) => {
                const next = new URLSearchParams(p);
                next.delete('invoice');
                next.set('pay', openId);
                return next;
              },
              { replace: true },
            );
          }}
        />
      ) : null}
      {payId ? <PayInvoiceDialog key={payId} invoiceId={payId} onClose={() => setParam('pay', null)} /> : null}
    </Stack>
  );
}

function Amount({ value, strong }: { value: string; strong?: boolean }) {
  return (
    <Text size="sm" fw={strong ? 600 : undefined} style={{ whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' }}>
      {value}
    </Text>
  );
}
