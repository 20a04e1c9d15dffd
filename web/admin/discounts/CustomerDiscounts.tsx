import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { api } from '../../shared/api.ts';
import { useSession } from '../../shared/session.tsx';
import { ErrorState } from '../../shared/ui.tsx';
import { DiscountStatusBadge } from './DiscountStatusBadge.tsx';
import { periodOf, rateOf, type DiscountView } from './discount-types.ts';

/**
 * The Customer app's view of a customer's discounts (read-only; managed in the Discount app): its own and those for every
 * customer, active or scheduled, most specific first.
 */
export function CustomerDiscounts({ customerId }: { customerId: string }) {
  const session = useSession();
  const canManage = session.apps.includes('discount');
  const q = useQuery({
    queryKey: ['customers', customerId, 'discounts'],
    queryFn: ({ signal }) => api.get<{ data: DiscountView[] }>(`/api/v1/customers/${encodeURIComponent(customerId)}/discounts`, undefined, signal),
  });
  const manage = canManage ? (
    <Anchor component={Link} to={`/admin/discount?customerId=${encodeURIComponent(customerId)}`} size="sm">Manage in the Discount app</Anchor>
  ) : (
    <Text size="xs" c="dimmed">Managed in the Discount app</Text>
  );
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-label="Discounts in force">
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={3} size="h5">Discounts in force</Title>
          {manage}
        </Group>
        {q.isError ? <ErrorState error={q.error} onRetry={() => void q.refetch()} /> : null}
        {q.data && q.data.data.length === 0 ? <Text size="sm" c="dimmed">No discount applies to this customer.</Text> : null}
        {q.data && q.data.data.length > 0 ? (
          <Table aria-label="Customer discounts" verticalSpacing={4}>
            <Table.Tbody>
              {q.data.data.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>
                    {canManage ? <Anchor component={Link} to={`/admin/discount/${d.id}`} size="sm">{d.name}</Anchor> : <Text size="sm">{d.name}</Text>}
                  </Table.Td>
                  <Table.Td><Text size="sm">{d.scopeLabel}</Text></Table.Td>
                  <Table.Td><Text size="sm" ff="monospace">{rateOf(d)}</Text></Table.Td>
                  <Table.Td>{d.customer ? null : <Badge variant="light" color="gray" radius="sm">Every customer</Badge>}</Table.Td>
                  <Table.Td><Text size="sm">{periodOf(d)}</Text></Table.Td>
                  <Table.Td><DiscountStatusBadge status={d.status} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
      </Stack>
    </Paper>
  );
}
