import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowLeft, IconBan, IconCash, IconDownload, IconMailForward, IconPencil, IconReceiptRefund, IconSend } from '@tabler/icons-react';
import { apiRequest, isApiError, newIdempotencyKey } from '../../shared/api.ts';
import { AuditTable } from '../../shared/AuditTable.tsx';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { ReasonDialog } from '../../shared/ReasonDialog.tsx';
import { formatDate, formatDateTime, formatPeriod, titleCase } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { usePagedList } from '../../shared/queries.ts';
import { useSession } from '../../shared/session.tsx';
import { DataTable, Empty, ErrorState, LoadingState } from '../../shared/ui.tsx';
import type { AuditEvent } from '../../shared/types.ts';
import { INVOICES_KEY, invoiceName, invoicePath, type InvoiceDetail } from './invoice-types.ts';
import { Amount, InvoiceBadges, InvoiceTypeBadge } from './invoice-ui.tsx';
import { InvoiceStatement } from '../../shared/InvoiceStatement.tsx';
import { InvoiceLinesTable } from '../../shared/InvoiceLinesTable.tsx';

type InvoicePayment = InvoiceDetail['payments'][number];
const PAYMENT_SOURCES: Record<string, string> = { points: 'Points', card: 'Card', allocation: 'Payment allocated' };

/** The invoice and its ETag (drafts carry one, for If-Match on edits). */
export function useInvoice(id: string) {
  return useQuery({
    queryKey: [...INVOICES_KEY, id],
    queryFn: async ({ signal }) => {
      const res = await apiRequest<InvoiceDetail>(invoicePath(id), { signal });
      return { invoice: res.data, etag: res.headers.get('etag') };
    },
  });
}

const positive = (amount: string) => (toMicros(amount) ?? 0n) > 0n;

/** Why this invoice cannot be voided (null: it can). */
function voidBlocker(inv: InvoiceDetail): string | null {
  if (inv.status === 'void') return null;
  if (inv.informational) return 'A statement already paid from points cannot be voided.';
  if (inv.status === 'paid' || inv.status === 'partially_paid' || positive(inv.amountPaid)) {
    return 'Payments were applied to this invoice: reverse them in the Finance app, or correct it with a credit note.';
  }
  if (positive(inv.amountCredited)) return 'Credit notes were applied to this invoice: it can no longer be voided.';
  return null;
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" fw={500} data-testid={testId} component="div">
        {children}
      </Text>
    </div>
  );
}

function Party({ title, lines }: { title: string; lines: (string | null | undefined)[] }) {
  const shown = lines.filter((l): l is string => !!l);
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label={title}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mb={4}>
        {title}
      </Text>
      {shown.length === 0 ? (
        <Text size="sm" c="dimmed">
          —
        </Text>
      ) : (
        shown.map((l, i) => (
          <Text key={`${i}:${l}`} size="sm" fw={i === 0 ? 600 : undefined} style={{ whiteSpace: 'pre-line' }}>
            {l}
          </Text>
        ))
      )}
    </Paper>
  );
}

function TotalRow({ label, amount, currency, strong, testId }: { label: string; amount: string; currency: string; strong?: boolean; testId: string }) {
  return (
    <Group justify="space-between" gap="xl" wrap="nowrap">
      <Text size="sm" fw={strong ? 700 : undefined} c={strong ? undefined : 'dimmed'}>
        {label}
      </Text>
      <Text size={strong ? 'md' : 'sm'} fw={strong ? 700 : 500} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
        {formatMoney(amount, currency)}
      </Text>
    </Group>
  );
}

export function InvoiceDetailPage() {
  const { id = '' } = useParams();
  const session = useSession();
  const query = useInvoice(id);
  const back = (
    <Anchor component={Link} to="/admin/invoice" size="sm">
      <Group gap={4}>
        <IconArrowLeft size={14} /> All invoices
      </Group>
    </Anchor>
  );
  if (query.isError && !query.data) {
    return (
      <Stack>
        {back}
        {isApiError(query.error) && query.error.status === 404 ? (
          <Empty title="Invoice not found" description="It does not exist, or it belongs to another partner." />
        ) : (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} title="Could not load this invoice" />
        )}
      </Stack>
    );
  }
  if (!query.data) return <LoadingState label="Loading invoice…" />;
  const inv = query.data.invoice;
  const c = inv.currency;
  const canFinance = session.apps.includes('finance');

  return (
    <Stack gap="lg" maw={1240}>
      {back}
      <Group justify="space-between" align="flex-start">
        <div>
          <Group gap="xs">
            <Title order={2} ff={inv.number ? 'monospace' : undefined} data-testid="invoice-number">
              {invoiceName(inv)}
            </Title>
            <InvoiceTypeBadge type={inv.type} size="md" />
            <InvoiceBadges invoice={inv} size="md" />
          </Group>
          <Text size="sm" c="dimmed">
            {inv.customer.name} · {inv.id}
          </Text>
        </div>
        <InvoiceActions invoice={inv} />
      </Group>

      {inv.status === 'void' ? (
        <Alert color="gray" variant="light" title={`Voided ${formatDateTime(inv.voidedAt)}`} icon={<IconBan size={18} />}>
          {inv.voidReason ?? 'No reason recorded.'}
        </Alert>
      ) : null}

      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }}>
          <Fact label="Customer">
            <Anchor component={Link} to={`/admin/customer/${inv.customer.id}`} size="sm">
              {inv.customer.name}
            </Anchor>
          </Fact>
          <Fact label="Issued" testId="invoice-issued">{inv.issuedAt ? formatDate(inv.issuedAt) : 'Not issued yet'}</Fact>
          <Fact label="Due">
            <Text span size="sm" fw={500} c={inv.overdue ? 'red.7' : undefined}>
              {inv.informational ? '—' : formatDate(inv.dueAt)}
            </Text>
          </Fact>
          <Fact label="Paid">{inv.paidAt ? formatDate(inv.paidAt) : '—'}</Fact>
          <Fact label="Period">{formatPeriod(inv.periodStart, inv.periodEnd)}</Fact>
          <Fact label="Created">{formatDateTime(inv.createdAt)}</Fact>
        </SimpleGrid>
      </Paper>

      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Party title="Bill to" lines={[inv.billTo.name, inv.billTo.email, inv.billTo.phone, inv.billTo.address]} />
        <Party
          title="Seller"
          lines={[inv.seller.legalName ?? inv.seller.name, inv.seller.address, inv.seller.taxId ? `Tax ID ${inv.seller.taxId}` : null, inv.seller.email]}
        />
      </SimpleGrid>

      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="lines-title">
        <Title order={3} size="h5" id="lines-title" mb="sm">
          Lines
        </Title>
        {inv.lines.length === 0 ? (
          <Empty title="No lines" />
        ) : (
          <InvoiceLinesTable lines={inv.lines} invoiceType={inv.type} showKind minWidth={760} />
        )}
        <Group justify="space-between" align="flex-start" mt="md" wrap="wrap">
          <Stack gap={4} maw={520}>
            {inv.notes ? (
              <>
                <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                  Notes
                </Text>
                <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
                  {inv.notes}
                </Text>
              </>
            ) : null}
            {/* As the PDF and the portal: how to pay, only on an invoice there is still something to pay on. */}
            {inv.seller.paymentInstructions && !inv.informational && inv.status !== 'paid' && inv.status !== 'void' ? (
              <>
                <Text size="xs" c="dimmed" tt="uppercase" fw={600} mt="xs">
                  Payment instructions
                </Text>
                <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
                  {inv.seller.paymentInstructions}
                </Text>
              </>
            ) : null}
          </Stack>
          <Stack gap={6} miw={300} component="section" aria-label="Totals">
            <TotalRow label="Line discounts" amount={inv.discount} currency={c} testId="total-discount" />
            <TotalRow label="Subtotal (after discounts)" amount={inv.subtotal} currency={c} testId="total-subtotal" />
            <TotalRow label="Tax" amount={inv.tax} currency={c} testId="total-tax" />
            <TotalRow label="Total" amount={inv.total} currency={c} strong testId="total-total" />
            <TotalRow label="Paid" amount={inv.amountPaid} currency={c} testId="total-paid" />
            {/* Of what was paid, given back by credit notes (outcome refund or points): shown only when some was. */}
            {positive(inv.amountRefunded) ? <TotalRow label="Refunded" amount={inv.amountRefunded} currency={c} testId="total-refunded" /> : null}
            {positive(inv.amountCreditedToPoints) ? <TotalRow label="Credited to points" amount={inv.amountCreditedToPoints} currency={c} testId="total-credited-to-points" /> : null}
            <TotalRow label="Credited" amount={inv.amountCredited} currency={c} testId="total-credited" />
            <TotalRow label="Amount due" amount={inv.amountDue} currency={c} strong testId="total-due" />
          </Stack>
        </Group>
      </Paper>

      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="payments-title">
        <Title order={3} size="h5" id="payments-title" mb="sm">
          Payments applied
        </Title>
        {inv.payments.length === 0 && inv.informational ? (
          <Text size="sm" c="dimmed">
            Paid from the customer’s points as the charges were made: the statement below lists them.
          </Text>
        ) : inv.payments.length === 0 ? (
          <Text size="sm" c="dimmed">
            No payments yet.
            {inv.status !== 'draft' && inv.status !== 'void' && !inv.informational ? ' The customer pays from the portal; payments received otherwise are recorded in the Finance app.' : ''}
          </Text>
        ) : (
          <DataTable<InvoicePayment>
            label="Payments applied"
            rows={inv.payments}
            rowKey={(p) => p.id}
            emptyTitle="No payments yet"
            columns={[
              { key: 'paid', header: 'Paid', card: 'field', render: (p) => formatDateTime(p.paidAt) },
              { key: 'source', header: 'Source', card: 'title', render: (p) => PAYMENT_SOURCES[p.source] ?? titleCase(p.source) },
              {
                key: 'reference', header: 'Reference', card: 'field',
                render: (p) => p.source === 'allocation' && p.paymentId && canFinance ? (
                  <Anchor component={Link} to={`/admin/finance/payments/${encodeURIComponent(p.paymentId)}`} size="sm" ff="monospace" aria-label={`Payment ${p.reference ?? p.paymentId}`}>
                    {p.reference}
                  </Anchor>
                ) : (
                  <Text size="sm" ff="monospace">
                    {p.reference ?? '—'}
                  </Text>
                ),
              },
              { key: 'amount', header: 'Amount', align: 'right', card: 'field', render: (p) => <Amount amount={p.amount} currency={c} /> },
            ]}
          />
        )}
      </Paper>

      {inv.statement ? <InvoiceStatement statement={inv.statement} currency={c} /> : null}

      <InvoiceHistory invoiceId={inv.id} />
    </Stack>
  );
}

/** Issue, edit, void, resend, download: each offered only when it applies, with the reason when it does not. */
function InvoiceActions({ invoice: inv }: { invoice: InvoiceDetail }) {
  const queryClient = useQueryClient();
  const [voiding, setVoiding] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: INVOICES_KEY });
  const post = async <T,>(action: 'issue' | 'resend') =>
    (await apiRequest<T>(invoicePath(inv.id, action), { method: 'POST', body: {}, headers: { 'idempotency-key': newIdempotencyKey(action) } })).data;
  const blocker = voidBlocker(inv);
  const isDraft = inv.status === 'draft';
  const canResend = !isDraft && inv.status !== 'void';
  const session = useSession();
  const canFinance = session.apps.includes('finance');
  // Payments and credit notes are the Finance app's: its holders get links there, pre-filled with this invoice.
  const payable = (inv.status === 'awaiting_payment' || inv.status === 'partially_paid') && inv.type !== 'monthly' && !inv.informational;
  const creditable = !isDraft && inv.status !== 'void' && !inv.informational;

  return (
    <Group gap="xs">
      {isDraft ? (
        <>
          <Button size="xs" variant="default" component={Link} to={`/admin/invoice/${inv.id}/edit`} leftSection={<IconPencil size={14} />}>
            Edit
          </Button>
          <ConfirmButton
            label="Issue"
            buttonProps={{ size: 'xs', variant: 'filled', leftSection: <IconSend size={14} /> }}
            title="Issue this invoice?"
            message={`It gets its number, its due date and is sent to ${inv.customer.name}. Issued invoices cannot be changed: corrections are credit notes.`}
            confirmLabel="Issue invoice"
            onConfirm={async () => {
              const issued = await post<InvoiceDetail>('issue');
              notifications.show({ color: 'teal', title: 'Invoice issued', message: `${issued.number ?? 'The invoice'} is issued to ${inv.customer.name}.` });
              await refresh();
            }}
          />
        </>
      ) : null}
      {canResend ? (
        <ConfirmButton
          label="Resend"
          buttonProps={{ size: 'xs', variant: 'default', leftSection: <IconMailForward size={14} /> }}
          title="Send this invoice again?"
          message={`${invoiceName(inv)} is sent again to ${inv.billTo.email ?? inv.customer.name}.`}
          confirmLabel="Resend"
          onConfirm={async () => {
            const sent = await post<{ notificationId: string; toEmail: string }>('resend');
            notifications.show({ color: 'teal', title: 'Sent again', message: `${invoiceName(inv)} is on its way to ${sent.toEmail}.` });
          }}
        />
      ) : null}
      {canFinance && payable ? (
        <Button
          size="xs"
          variant="default"
          component={Link}
          to={`/admin/finance/payments/new?customerId=${encodeURIComponent(inv.customer.id)}&invoiceId=${encodeURIComponent(inv.id)}`}
          leftSection={<IconCash size={14} />}
        >
          Record payment
        </Button>
      ) : null}
      {canFinance && creditable ? (
        <Button size="xs" variant="default" component={Link} to={`/admin/finance/credit-notes?invoiceId=${encodeURIComponent(inv.id)}`} leftSection={<IconReceiptRefund size={14} />}>
          Issue credit note
        </Button>
      ) : null}
      <Button
        size="xs"
        variant="default"
        component="a"
        href={invoicePath(inv.id, 'pdf')}
        download={`${inv.number ?? inv.id}.pdf`}
        leftSection={<IconDownload size={14} />}
      >
        Download PDF
      </Button>
      {inv.status !== 'void' ? (
        blocker ? (
          <Tooltip label={blocker} multiline w={280} withArrow>
            {/* A disabled button gets no pointer events: the wrapper carries the tooltip, and the reason is also its description. */}
            <span tabIndex={0} aria-describedby={`void-blocked-${inv.id}`}>
              <Button size="xs" color="red" variant="light" disabled leftSection={<IconBan size={14} />} style={{ pointerEvents: 'none' }}>
                Void
              </Button>
              <span id={`void-blocked-${inv.id}`} hidden>
                {blocker}
              </span>
            </span>
          </Tooltip>
        ) : (
          <Button size="xs" color="red" variant="light" leftSection={<IconBan size={14} />} onClick={() => setVoiding(true)}>
            Void
          </Button>
        )
      ) : null}
      <VoidDialog invoice={inv} opened={voiding} onClose={() => setVoiding(false)} onDone={refresh} />
    </Group>
  );
}

function VoidDialog({ invoice: inv, opened, onClose, onDone }: { invoice: InvoiceDetail; opened: boolean; onClose: () => void; onDone: () => Promise<unknown> }) {
  return (
    <ReasonDialog
      opened={opened}
      onClose={onClose}
      title={`Void ${invoiceName(inv)}`}
      formLabel="Void invoice"
      intro={`A void invoice stays on record with its number, but nothing is due on it any more${inv.status === 'draft' ? '' : ' and its ledger entry is reversed'}. This cannot be undone.`}
      reasonDescription="Kept on the invoice and in the audit trail"
      submitLabel="Void invoice"
      keyPrefix="void"
      send={async (reason, key) => (await apiRequest<InvoiceDetail>(invoicePath(inv.id, 'void'), { method: 'POST', body: { reason }, headers: { 'idempotency-key': key } })).data}
      onDone={async () => {
        notifications.show({ color: 'teal', title: 'Invoice voided', message: `${invoiceName(inv)} is void; nothing is due on it.` });
        await onDone();
      }}
    />
  );
}

/** The invoice's audit events (the Audit app's list filtered by target), for staff who hold the Audit app. */
function InvoiceHistory({ invoiceId }: { invoiceId: string }) {
  const session = useSession();
  const canSee = session.apps.includes('audit');
  const events = usePagedList<AuditEvent>([...INVOICES_KEY, invoiceId, 'history'], '/api/v1/audit-events', { targetId: invoiceId, limit: 20 }, { enabled: canSee });
  if (!canSee) return null;
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="history-title">
      <Title order={3} size="h5" id="history-title" mb="sm">
        History
      </Title>
      <AuditTable
        label="Invoice history"
        rows={events.rows}
        loading={events.isPending}
        error={events.error}
        onRetry={() => void events.refetch()}
        hasNextPage={events.hasNextPage}
        isFetchingNextPage={events.isFetchingNextPage}
        onLoadMore={() => void events.fetchNextPage()}
        emptyDescription="Nothing recorded on this invoice yet."
      />
    </Paper>
  );
}
