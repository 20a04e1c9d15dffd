import { Paper, Text, Title } from '@mantine/core';
import { formatRelative, titleCase } from '../../shared/format.ts';
import { DataTable, StatusBadge } from '../../shared/ui.tsx';
import type { CustomerFull } from './customer-types.ts';

/** Customer detail > Members: the organisation's portal users and their roles (members manage each other in the portal). */
export function CustomerMembers({ customer: c }: { customer: CustomerFull }) {
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="members-title">
      <Title order={3} size="h4" id="members-title">
        Members
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        The people of {c.name} who use the user portal. Owners and admins invite and manage members from the portal.
      </Text>
      <DataTable
        label="Customer users"
        rows={c.users}
        rowKey={(u) => u.id}
        emptyTitle="No users"
        columns={[
          {
            key: 'name',
            header: 'Name',
            render: (u) => (
              <div>
                <Text size="sm" fw={500}>
                  {u.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {u.email}
                </Text>
              </div>
            ),
          },
          { key: 'role', header: 'Role', render: (u) => titleCase(u.role) },
          { key: 'status', header: 'Status', render: (u) => <StatusBadge status={u.status} /> },
          { key: 'verified', header: 'Email', render: (u) => (u.emailVerified ? 'Verified' : 'Unverified') },
          { key: 'login', header: 'Last sign-in', render: (u) => formatRelative(u.lastLoginAt) },
        ]}
      />
    </Paper>
  );
}
