import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Anchor, Button, Group, Paper, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload, IconPlus, IconSearch } from '@tabler/icons-react';
import { withQuery, type QueryValue } from '../../shared/api.ts';
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { anyFilter, useUrlFilters } from '../../shared/url-filters.ts';
import { DataTable, LoadMore, PageHeader } from '../../shared/ui.tsx';
import { CreditNoteDetailView } from './CreditNoteDetailView.tsx';
import { CreditNoteForm } from './CreditNoteForm.tsx';
import { CREDIT_NOTES_KEY, CreditNoteStatusBadge, OUTCOMES, REASONS, outcomeLabel, reasonLabel, type CreditNoteSummary } from './CreditNoteParts.tsx';

/**
 * Credit notes in the Finance app: `/admin/finance/credit-notes` (the list; `?invoiceId=` or `?new=1` opens the create form,
 * the Invoice app links here with the invoice) and `/admin/finance/credit-notes/:creditNoteId` (one credit note).
 */
export function CreditNotesPage() {
  const { creditNoteId } = useParams();
  const [params, setParams] = useSearchParams();
  if (creditNoteId) return <CreditNoteDetailView creditNoteId={creditNoteId} />;
  const invoiceId = params.get('invoiceId');
  if (invoiceId || params.get('new')) {
    return <CreditNoteForm initialInvoiceId={invoiceId} onCancel={() => setParams(new URLSearchParams(), { replace: true })} />;
  }
  return <CreditNoteList />;
}

function CreditNoteList() {
  const navigate = useNavigate();
  const { filter, setFilters, clearFilters } = useUrlFilters();
  const [q, setQ] = useState(filter('q'));
  const [debounced] = useDebouncedValue(q.trim(), 300);
  const status = filter('status');
  const reason = filter('reason');
  const outcome = filter('outcome');
  const from = filter('from');
  const to = filter('to');
  const filters: Record<string, QueryValue> = { q: debounced, status, reason, outcome, from, to };
  const list = usePagedList<CreditNoteSummary>(CREDIT_NOTES_KEY, '/api/v1/credit-notes', { ...filters, limit: 50 });
  const filtered = anyFilter(filters);
  return (
    <Stack maw={1400}>
      <PageHeader
        title="Credit notes"
        description="Corrections of issued invoices: reduce what is due, credit points, or refund. A draft posts nothing; an issued credit note never changes."
        actions={
          <>
            <Button component="a" href={withQuery('/api/v1/credit-notes', { ...filters, format: 'csv' })} download="credit-notes.csv" variant="default" leftSection={<IconDownload size={16} />}>
              Download CSV
            </Button>
            <Button onClick={() => setFilters({ new: '1' })} leftSection={<IconPlus size={16} />}>New credit note</Button>
          </>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Group align="flex-end" gap="sm" role="search" aria-label="Find credit notes">
            <TextInput label="Number" placeholder="CN-…" leftSection={<IconSearch size={16} />} value={q} w={200}
              onChange={(e) => { setQ(e.currentTarget.value); setFilters({ q: e.currentTarget.value }); }} />
            <Select label="Status" w={150} allowDeselect={false} value={status} onChange={(v) => setFilters({ status: v ?? '' })}
              data={[{ value: '', label: 'Any status' }, { value: 'draft', label: 'Draft' }, { value: 'issued', label: 'Issued' }, { value: 'void', label: 'Void' }]} />
            <Select label="Reason" w={170} allowDeselect={false} value={reason} onChange={(v) => setFilters({ reason: v ?? '' })} data={[{ value: '', label: 'Any reason' }, ...REASONS]} />
            <Select label="Outcome" w={200} allowDeselect={false} value={outcome} onChange={(v) => setFilters({ outcome: v ?? '' })} data={[{ value: '', label: 'Any outcome' }, ...OUTCOMES]} />
            <TextInput label="From" type="date" value={from} onChange={(e) => setFilters({ from: e.currentTarget.value })} w={160} />
            <TextInput label="To" type="date" value={to} onChange={(e) => setFilters({ to: e.currentTarget.value })} w={160} />
            <Button variant="subtle" disabled={!filtered} onClick={() => { setQ(''); clearFilters(); }}>Clear filters</Button>
          </Group>
          <DataTable
            label="Credit notes"
            rows={list.rows}
            loading={list.isPending}
            error={list.error}
            onRetry={() => void list.refetch()}
            rowKey={(n) => n.id}
            onRowClick={(n) => void navigate(`/admin/finance/credit-notes/${n.id}`)}
            emptyTitle={filtered ? 'No matching credit notes' : 'No credit notes yet'}
            emptyDescription={filtered ? 'Nothing matches these filters.' : 'Raise one with “New credit note”, or from an invoice in the Invoice app.'}
            footer={<LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />}
            columns={[
              {
                key: 'number', header: 'Number', card: 'title',
                render: (n) => (
                  <Anchor component={Link} to={`/admin/finance/credit-notes/${n.id}`} size="sm" ff={n.number ? 'monospace' : undefined} onClick={(e) => e.stopPropagation()}>
                    {n.number ?? 'Draft'}
                  </Anchor>
                ),
              },
              { key: 'customer', header: 'Customer', card: 'field', render: (n) => <Text size="sm">{n.customer.name}</Text> },
              { key: 'invoice', header: 'Invoice', card: 'field', render: (n) => <Text size="sm" ff="monospace">{n.invoice.number}</Text> },
              { key: 'status', header: 'Status', card: 'status', render: (n) => <CreditNoteStatusBadge status={n.status} /> },
              { key: 'reason', header: 'Reason', render: (n) => <Text size="sm">{reasonLabel(n.reason)}</Text> },
              { key: 'outcome', header: 'Outcome', card: 'field', render: (n) => <Text size="sm">{outcomeLabel(n)}</Text> },
              { key: 'date', header: 'Date', render: (n) => <Text size="sm">{formatDate(n.issuedAt ?? n.createdAt)}</Text> },
              { key: 'total', header: 'Total', align: 'right', card: 'field', render: (n) => <Text size="sm" fw={500}>{formatMoney(n.total, n.currency)}</Text> },
            ]}
          />
        </Stack>
      </Paper>
    </Stack>
  );
}
