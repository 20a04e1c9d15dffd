import { Anchor, Button, Text, VisuallyHidden } from '@mantine/core';
import { ChangesSummary } from '../../shared/AuditTable.tsx';
import { auditValueLabel } from './value-labels.ts';
import { formatDate, formatDateTime, formatTime } from '../../shared/format.ts';
import { DataTable, LoadMore, type Column } from '../../shared/ui.tsx';
import { actorTypeLabel, authMethodLabel, catalogActionLabel, catalogAppLabel } from './catalog.ts';
import type { AuditCatalog, AuditEventView } from './types.ts';

export interface AuditEventsTableProps {
  label?: string;
  rows: AuditEventView[] | undefined;
  catalog: AuditCatalog;
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  onLoadMore: () => void;
  onOpen: (e: AuditEventView) => void;
  showCustomer?: boolean;
  customerName?: (id: string) => string | undefined;
  onCustomer?: (id: string) => void;
  emptyDescription?: string;
}

/** Audit events newest first; a row (or its "Open" button) opens the event's detail. */
export function AuditEventsTable(props: AuditEventsTableProps) {
  const { catalog } = props;
  const columns: Column<AuditEventView>[] = [
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
            {formatTime(e.occurredAt)} · #{e.seq}
          </Text>
        </div>
      ),
    },
    {
      key: 'who',
      header: 'Who',
      minWidth: 150,
      card: 'field',
      render: (e) => (
        <div>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            {e.actor.label ?? e.actor.id ?? '—'}
          </Text>
          <Text size="xs" c="dimmed">
            {authMethodLabel(catalog, e.authMethod) ?? actorTypeLabel(e.actor.type)}
          </Text>
        </div>
      ),
    },
    {
      key: 'what',
      header: 'What',
      minWidth: 180,
      card: 'title',
      render: (e) => (
        <div>
          <Text size="sm" fw={500}>
            {catalogActionLabel(catalog, e.action)}
          </Text>
          <Text size="xs" c="dimmed">
            {catalogAppLabel(catalog, e.app)} · <span style={{ fontFamily: 'monospace' }}>{e.action}</span>
          </Text>
        </div>
      ),
    },
    ...(props.showCustomer
      ? [
          {
            key: 'customer',
            header: 'Customer',
            card: 'field' as const,
            render: (e: AuditEventView) => {
              if (!e.customerId) return <Text size="sm">—</Text>;
              const name = props.customerName?.(e.customerId);
              return props.onCustomer ? (
                <Anchor
                  component="button"
                  type="button"
                  size="sm"
                  title={`Only ${name ?? e.customerId}`}
                  onClick={(ev) => {
                    ev.stopPropagation();
                    props.onCustomer!(e.customerId!);
                  }}
                  style={{ overflowWrap: 'anywhere', textAlign: 'left' }}
                >
                  {name ?? e.customerId}
                </Anchor>
              ) : (
                <Text size="sm">{name ?? e.customerId}</Text>
              );
            },
          },
        ]
      : []),
    {
      key: 'target',
      header: 'Target',
      card: 'field',
      render: (e) => (
        <div>
          <Text size="sm">{e.target.type.replaceAll('_', ' ')}</Text>
          {e.target.id ? (
            <Text size="xs" c="dimmed" ff="monospace" title={e.target.id} maw={130} truncate="end">
              {e.target.id}
            </Text>
          ) : null}
        </div>
      ),
    },
    { key: 'changes', header: 'Changes', minWidth: 150, render: (e) => <ChangesSummary changes={e.changes} valueLabel={auditValueLabel(e.action)} /> },
    {
      key: 'open',
      header: <VisuallyHidden>Open</VisuallyHidden>,
      align: 'right',
      card: 'actions',
      render: (e) => (
        <Button
          size="compact-xs"
          variant="subtle"
          aria-label={`Open ${catalogActionLabel(catalog, e.action)} at ${formatDateTime(e.occurredAt)}`}
          onClick={(ev) => {
            ev.stopPropagation();
            props.onOpen(e);
          }}
        >
          Open
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
      onRowClick={props.onOpen}
      emptyTitle="No audit events"
      emptyDescription={props.emptyDescription ?? 'Nothing matches these filters.'}
      columns={columns}
      footer={<LoadMore hasNextPage={props.hasNextPage} isFetchingNextPage={props.isFetchingNextPage} onLoadMore={props.onLoadMore} />}
    />
  );
}
