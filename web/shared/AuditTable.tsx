import { useState } from 'react';
import { Button, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { appLabel } from './apps.tsx';
import { formatDate, formatDateTime, formatTime, humanAction } from './format.ts';
import { DataTable, LoadMore, useIsPhone, type Column } from './ui.tsx';
import type { AuditEvent } from './types.ts';

/**
 * A value on one line of a change's summary: as `formatAuditValue` words it, a list's items joined by commas
 * (`Queues: Sales, Support`), where JSON (`["Sales","Support"]`) was shown before; nothing is a dash.
 */
export function summaryValue(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => summaryValue(x)).join(', ');
  return formatAuditValue(v);
}

/** `renewalPrice` -> "Renewal price", `billing_email` -> "Billing email". */
export function humanField(field: string): string {
  const words = field.replaceAll('_', ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.replace(/^\w/, (c) => c.toUpperCase());
}

/** A value as a person reads it: yes/no, empty as a dash, lists one per line, objects as "key: value" pairs. */
export function formatAuditValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => formatAuditValue(x)).join('\n');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${humanField(k)}: ${typeof x === 'object' && x !== null ? JSON.stringify(x) : formatAuditValue(x)}`)
      .join(', ');
  }
  return JSON.stringify(v);
}

/**
 * Words for a field's coded value (`outcome: reduce_due` -> "Reduce the amount due"), where a screen knows them; undefined
 * keeps the value as `formatAuditValue` words it. The raw value stays available as the shown text's title.
 */
export type AuditValueLabel = (field: string, value: unknown) => string | undefined;

/** A field's value as shown: the label a screen gives a coded value (its code as the title), else the value itself. */
function AuditValue({ field, value, valueLabel, summary = false }: { field: string; value: unknown; valueLabel?: AuditValueLabel | undefined; summary?: boolean }) {
  const label = valueLabel?.(field, value);
  if (label !== undefined) return <span title={typeof value === 'string' ? value : JSON.stringify(value)} data-raw-value={typeof value === 'string' ? value : undefined}>{label}</span>;
  return <>{summary ? summaryValue(value) : formatAuditValue(value)}</>;
}

export interface DiffRow {
  field: string;
  before?: unknown;
  after?: unknown;
  hasBefore: boolean;
  hasAfter: boolean;
}

/** `{field: {before, after}}` (or the detail endpoint's `[{field, before, after}]`) as sorted rows. */
export function diffRows(changes: unknown): DiffRow[] {
  if (Array.isArray(changes)) {
    return changes
      .filter((c): c is { field: string; before?: unknown; after?: unknown } => !!c && typeof c === 'object' && 'field' in c)
      .map((c) => ({ field: c.field, before: c.before, after: c.after, hasBefore: c.before !== undefined && c.before !== null, hasAfter: c.after !== undefined && c.after !== null }));
  }
  if (!changes || typeof changes !== 'object') return [];
  return Object.entries(changes as Record<string, unknown>)
    .map(([field, v]) => {
      const c = v && typeof v === 'object' && ('before' in v || 'after' in v) ? (v as { before?: unknown; after?: unknown }) : { after: v };
      return { field, before: c.before, after: c.after, hasBefore: 'before' in c, hasAfter: 'after' in c };
    })
    .sort((a, b) => a.field.localeCompare(b.field));
}

/** Field-by-field before and after: the old value struck through in red, the new one in green. */
export function ChangesDiff({ changes, label = 'Changes', valueLabel }: { changes: unknown; label?: string; valueLabel?: AuditValueLabel | undefined }) {
  const phone = useIsPhone();
  const rows = diffRows(changes);
  if (rows.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No field changes recorded.
      </Text>
    );
  if (phone) return <ChangesList rows={rows} label={label} valueLabel={valueLabel} />;
  const cell = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', verticalAlign: 'top' } as const;
  return (
    <Table aria-label={label} withTableBorder withColumnBorders verticalSpacing={6} fz="sm" layout="fixed">
      <Table.Thead>
        <Table.Tr>
          {/* Wider on a phone, so that a field's name breaks between words rather than inside one. */}
          <Table.Th w={{ base: '36%', sm: '24%' }}>Field</Table.Th>
          <Table.Th>Before</Table.Th>
          <Table.Th>After</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((r) => (
          <Table.Tr key={r.field} data-field={r.field}>
            <Table.Td style={{ ...cell, overflowWrap: 'break-word', hyphens: 'auto' }} title={r.field}>
              <Text size="sm" fw={500}>
                {humanField(r.field)}
              </Text>
            </Table.Td>
            <Table.Td style={cell} bg={r.hasBefore ? 'var(--mantine-color-red-0)' : undefined}>
              {r.hasBefore ? (
                <Text size="sm" c="red.8" td="line-through" data-diff="before" component="span" style={{ whiteSpace: 'pre-wrap' }}>
                  <VisuallyHidden>was </VisuallyHidden>
                  <AuditValue field={r.field} value={r.before} valueLabel={valueLabel} />
                </Text>
              ) : (
                <Text size="sm" c="dimmed" component="span">
                  —
                </Text>
              )}
            </Table.Td>
            <Table.Td style={cell} bg={r.hasAfter ? 'var(--mantine-color-green-0)' : undefined}>
              {r.hasAfter ? (
                <Text size="sm" c="green.9" fw={500} data-diff="after" component="span" style={{ whiteSpace: 'pre-wrap' }}>
                  <VisuallyHidden>now </VisuallyHidden>
                  <AuditValue field={r.field} value={r.after} valueLabel={valueLabel} />
                </Text>
              ) : (
                <Text size="sm" c="dimmed" component="span">
                  —
                </Text>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/**
 * On a phone, the same changes one field under another, its value before and after on lines of their own across the
 * card's width: three columns in ~300 px broke words and dates in the middle ("purchas e").
 */
function ChangesList({ rows, label, valueLabel }: { rows: DiffRow[]; label: string; valueLabel?: AuditValueLabel | undefined }) {
  return (
    <Stack gap={0} role="list" aria-label={label}>
      {rows.map((r) => (
        <Stack key={r.field} gap={2} py={6} role="listitem" data-field={r.field} style={{ borderTop: '1px solid var(--mantine-color-gray-3)' }}>
          <Text size="sm" fw={500} title={r.field}>
            {humanField(r.field)}
          </Text>
          {r.hasBefore && <ChangeLine side="before" field={r.field} value={r.before} valueLabel={valueLabel} />}
          {r.hasAfter && <ChangeLine side="after" field={r.field} value={r.after} valueLabel={valueLabel} />}
        </Stack>
      ))}
    </Stack>
  );
}

/** One side of a field's change on a phone: its label, then the value struck through in red (before) or in green (after). */
function ChangeLine({ side, field, value, valueLabel }: { side: 'before' | 'after'; field: string; value: unknown; valueLabel?: AuditValueLabel | undefined }) {
  const before = side === 'before';
  return (
    <Group gap={8} wrap="nowrap" align="baseline" px={6} bg={before ? 'var(--mantine-color-red-0)' : 'var(--mantine-color-green-0)'}>
      <Text size="xs" c="dimmed" w={40} style={{ flexShrink: 0 }} aria-hidden>
        {before ? 'Before' : 'After'}
      </Text>
      <Text size="sm" c={before ? 'red.8' : 'green.9'} td={before ? 'line-through' : undefined} fw={before ? undefined : 500} data-diff={side}
        style={{ whiteSpace: 'pre-wrap', overflowWrap: 'break-word', minWidth: 0 }}>
        <VisuallyHidden>{before ? 'was ' : 'now '}</VisuallyHidden>
        <AuditValue field={field} value={value} valueLabel={valueLabel} />
      </Text>
    </Group>
  );
}

/** `{field: {before, after}}` as short "field: before → after" lines. */
export function ChangesSummary({ changes, valueLabel }: { changes: AuditEvent['changes']; valueLabel?: AuditValueLabel | undefined }) {
  if (!changes || typeof changes !== 'object' || Object.keys(changes).length === 0) return <Text size="xs" c="dimmed">—</Text>;
  const entries = Object.entries(changes).slice(0, 3);
  const more = Object.keys(changes).length - entries.length;
  return (
    <Stack gap={2}>
      {entries.map(([k, v]) => {
        const c = v && typeof v === 'object' && ('before' in v || 'after' in v) ? (v as { before?: unknown; after?: unknown }) : { after: v };
        return (
          <Text key={k} size="xs" style={{ overflowWrap: 'anywhere' }} maw={240}>
            <b>{humanField(k)}</b>: {'before' in c ? <><AuditValue field={k} value={c.before} valueLabel={valueLabel} summary /> → </> : ''}
            <AuditValue field={k} value={c.after} valueLabel={valueLabel} summary />
          </Text>
        );
      })}
      {more > 0 ? (
        <Text size="xs" c="dimmed">
          +{more} more
        </Text>
      ) : null}
    </Stack>
  );
}

interface AuditTableProps {
  label?: string;
  rows: AuditEvent[] | undefined;
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  hasNextPage?: boolean;
  isFetchingNextPage?: boolean;
  onLoadMore?: () => void;
  showCustomer?: boolean;
  showPartner?: boolean;
  partnerName?: (id: string | null | undefined) => string;
  customerName?: (id: string) => string | undefined;
  emptyDescription?: string;
}

/**
 * Audit events with who/when/what/target, expandable to the full change set and request details. On a phone each event
 * is a card, as in the Audit app's own list: the action its title; when, the actor, the target and the partner or customer
 * its fields; Details at its foot, opening the change set inside the card. The changes' summary is left to Details there.
 */
export function AuditTable(props: AuditTableProps) {
  const [open, setOpen] = useState<string | null>(null);
  const columns: Column<AuditEvent>[] = [
    {
      key: 'when',
      header: 'When',
      card: 'field',
      render: (e) => (
        <div title={e.occurredAt}>
          <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
            {formatDate(e.occurredAt)}
          </Text>
          <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
            {formatTime(e.occurredAt)}
            {e.seq !== undefined ? ` · #${e.seq}` : ''}
          </Text>
        </div>
      ),
    },
    {
      key: 'actor',
      header: 'Actor',
      minWidth: 170,
      card: 'field',
      render: (e) => (
        <div>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            {e.actor.label ?? e.actor.id ?? '—'}
          </Text>
          <Text size="xs" c="dimmed">
            {e.actor.type.replaceAll('_', ' ')}
          </Text>
        </div>
      ),
    },
    {
      key: 'action',
      header: 'Action',
      minWidth: 190,
      card: 'title',
      render: (e) => (
        <div>
          <Text size="sm" fw={500}>
            {humanAction(e.action)}
          </Text>
          <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
            {appLabel(e.app)} ·{' '}
            <Text span inherit ff="monospace">
              {e.action}
            </Text>
          </Text>
        </div>
      ),
    },
    {
      key: 'target',
      header: 'Target',
      card: 'field',
      render: (e) => (
        <div>
          <Text size="sm">{e.target.type}</Text>
          {e.target.id ? (
            <Text size="xs" c="dimmed" ff="monospace" title={e.target.id} maw={140} truncate="end">
              {e.target.id}
            </Text>
          ) : null}
        </div>
      ),
    },
    ...(props.showPartner
      ? [
          {
            key: 'partner',
            header: 'Partner',
            card: 'field' as const,
            render: (e: AuditEvent) => (
              <div>
                <Text size="sm">{props.partnerName?.(e.partnerId) ?? e.partnerId ?? 'Platform'}</Text>
                {e.customerId ? (
                  <Text size="xs" ff="monospace" c="dimmed" title={`Customer ${e.customerId}`} maw={140} truncate="end">
                    {e.customerId}
                  </Text>
                ) : null}
              </div>
            ),
          },
        ]
      : []),
    ...(props.showCustomer && !props.showPartner
      ? [
          {
            key: 'customer',
            header: 'Customer',
            card: 'field' as const,
            render: (e: AuditEvent) => {
              if (!e.customerId) return <Text size="sm">—</Text>;
              const name = props.customerName?.(e.customerId);
              return name ? (
                <Text size="sm">{name}</Text>
              ) : (
                <Text size="xs" ff="monospace" c="dimmed" title={e.customerId} maw={140} truncate="end">
                  {e.customerId}
                </Text>
              );
            },
          },
        ]
      : []),
    { key: 'changes', header: 'Changes', minWidth: 160, render: (e) => <ChangesSummary changes={e.changes} /> },
    {
      key: 'details',
      header: <VisuallyHidden>Details</VisuallyHidden>,
      align: 'right',
      card: 'actions',
      render: (e) => (
        <Button size="compact-xs" variant="subtle" aria-expanded={open === e.id} aria-label={`Details of ${e.action} at ${formatDateTime(e.occurredAt)}`} onClick={() => setOpen((o) => (o === e.id ? null : e.id))}>
          {open === e.id ? 'Hide' : 'Details'}
        </Button>
      ),
    },
  ];
  return (
    <DataTable
      label={props.label ?? 'Audit events'}
      rows={props.rows}
      loading={props.loading}
      error={props.error}
      onRetry={props.onRetry}
      rowKey={(e) => e.id}
      emptyTitle="No audit events"
      emptyDescription={props.emptyDescription ?? 'Nothing matches these filters.'}
      columns={columns}
      renderExpanded={(e) =>
        open === e.id ? (
          <Stack gap={6} p="xs" style={{ overflowWrap: 'anywhere' }}>
            <Text size="xs" c="dimmed">
              Event {e.id}
              {e.target.id ? ` · target ${e.target.type} ${e.target.id}` : ''}
              {e.customerId ? ` · customer ${e.customerId}` : ''}
              {e.requestId !== undefined ? ` · request ${e.requestId ?? '—'}` : ''}
              {e.ip !== undefined ? ` · IP ${e.ip ?? '—'}` : ''}
            </Text>
            {e.userAgent ? (
              <Text size="xs" c="dimmed">
                {e.userAgent}
              </Text>
            ) : null}
            <ChangesDiff changes={e.changes} />
          </Stack>
        ) : null
      }
      footer={props.onLoadMore ? <LoadMore hasNextPage={!!props.hasNextPage} isFetchingNextPage={!!props.isFetchingNextPage} onLoadMore={props.onLoadMore} /> : null}
    />
  );
}
