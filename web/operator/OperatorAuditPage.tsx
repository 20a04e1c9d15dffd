import { useSearchParams } from 'react-router';
import { Paper, Select, Stack } from '@mantine/core';
import { AuditTable } from '../shared/AuditTable.tsx';
import { usePagedList } from '../shared/queries.ts';
import { PageHeader } from '../shared/ui.tsx';
import type { AuditEvent } from '../shared/types.ts';
import { usePartners } from './PartnersPage.tsx';

export function OperatorAuditPage() {
  const [params, setParams] = useSearchParams();
  const partnerId = params.get('partnerId');
  const partners = usePartners();
  const events = usePagedList<AuditEvent>(['operator', 'audit-events'], '/api/v1/operator/audit-events', { partnerId });
  const names = new Map((partners.rows ?? []).map((p) => [p.id, p.name]));
  return (
    <Stack maw={1300}>
      <PageHeader title="Audit events" description="The audit trail of any partner, or of the platform itself." />
      <Paper withBorder radius="md" p="md" component="section" aria-label="Filters">
        <Select
          label="Partner"
          placeholder="All partners and the platform"
          data={(partners.rows ?? []).map((p) => ({ value: p.id, label: p.name }))}
          value={partnerId}
          onChange={(v) => setParams(v ? { partnerId: v } : {}, { replace: true })}
          clearable
          maw={360}
        />
      </Paper>
      <Paper withBorder radius="md" p="md">
        <AuditTable
          rows={events.rows}
          loading={events.isPending}
          error={events.error}
          onRetry={() => void events.refetch()}
          hasNextPage={events.hasNextPage}
          isFetchingNextPage={events.isFetchingNextPage}
          onLoadMore={() => void events.fetchNextPage()}
          showPartner={!partnerId}
          partnerName={(id) => (id ? (names.get(id) ?? id) : 'Platform')}
          showCustomer
        />
      </Paper>
    </Stack>
  );
}
