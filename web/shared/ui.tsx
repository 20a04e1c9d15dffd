import type { ReactNode } from 'react';
import { Alert, Badge, Box, Button, Center, EmptyState, Group, Loader, Paper, SimpleGrid, Stack, Table, Text, Title, useMantineTheme, type MantineBreakpoint } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconAlertCircle, IconInbox } from '@tabler/icons-react';
import { errorMessage, isApiError } from './api.ts';
import { formatDate, titleCase } from './format.ts';
import { cardLayout, type CardLayout, type CardPlace } from './row-card.ts';

/**
 * A page's title, description and actions. The actions stay beside the title while both fit (the title's share starts
 * at 16rem), and go under it on a phone, where beside it they ran off the screen ("New invoice" past its right edge).
 */
export function PageHeader({ title, description, actions, mb = 'xs' }: { title: string; description?: ReactNode; actions?: ReactNode; mb?: string | number }) {
  return (
    <Group justify="space-between" align="flex-start" mb={mb} wrap="wrap">
      <Box style={{ flex: '1 1 16rem', minWidth: 0 }}>
        <Title order={2}>{title}</Title>
        {description ? (
          <Text c="dimmed" size="sm" mt={4}>
            {description}
          </Text>
        ) : null}
      </Box>
      {actions ? (
        <Group gap="xs" wrap="wrap" style={{ flex: '0 1 auto' }}>
          {actions}
        </Group>
      ) : null}
    </Group>
  );
}

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Group>
    </Center>
  );
}

export function ErrorState({ error, onRetry, title = 'Could not load this' }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <Alert color="red" variant="light" title={title} icon={<IconAlertCircle size={18} />} role="alert">
      <Stack gap="xs">
        <Text size="sm">{errorMessage(error)}</Text>
        {isApiError(error) && error.requestId ? (
          <Text size="xs" c="dimmed">
            Request {error.requestId}
          </Text>
        ) : null}
        {onRetry ? (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        ) : null}
      </Stack>
    </Alert>
  );
}

export function Empty({ title, description, action }: { title: string; description?: ReactNode; action?: ReactNode }) {
  return (
    <EmptyState py="xl" size="sm" icon={<IconInbox size={28} stroke={1.5} />} withIndicatorBackground title={title} description={description}>
      {action ? <EmptyState.Actions>{action}</EmptyState.Actions> : null}
    </EmptyState>
  );
}

export interface Column<T> {
  key: string;
  header: ReactNode;
  render: (row: T) => ReactNode;
  width?: number | string;
  minWidth?: number;
  align?: 'left' | 'right' | 'center';
  /** Shown from this screen width up only: what a phone can do without (the rest then fits its width, no sideways scroll). */
  visibleFrom?: MantineBreakpoint;
  /** Its place in the row's card on a phone (`row-card.ts`); a list with no column placed stays a table there. */
  card?: CardPlace;
  /** Its label as a card's field, when the header is not plain text. */
  cardLabel?: string;
  /** What the card shows instead of `render`, when the cell's own layout is the table's (a value pushed to the right). */
  cardRender?: (row: T) => ReactNode;
}

/**
 * A phone: narrower than the theme's `sm` breakpoint (48em), as `hiddenFrom="sm"` counts. Read at the first render (not in
 * an effect), so a list is drawn once, as a table or as cards, never the table first and then the cards.
 */
export function useIsPhone(): boolean {
  const theme = useMantineTheme();
  return !useMediaQuery(`(min-width: ${theme.breakpoints.sm})`, true, { getInitialValueInEffect: false });
}

interface DataTableProps<T> {
  label: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  emptyTitle: string;
  emptyDescription?: ReactNode;
  emptyAction?: ReactNode;
  onRowClick?: (row: T) => void;
  footer?: ReactNode;
  renderExpanded?: (row: T) => ReactNode | null;
}

/**
 * A table with its loading, error and empty states; `label` names it for assistive tech (and tests). On a phone, when
 * its columns say where they go in a card (`Column.card`), each row is a card in a list of the same name instead.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { label, columns, rows, rowKey, loading, error, onRetry, emptyTitle, emptyDescription, emptyAction, onRowClick, footer, renderExpanded } = props;
  const phone = useIsPhone();
  if (error && !rows) return <ErrorState error={error} onRetry={onRetry} title={`Could not load ${label.toLowerCase()}`} />;
  if (loading && !rows) return <LoadingState label={`Loading ${label.toLowerCase()}…`} />;
  if (!rows || rows.length === 0) return <Empty title={emptyTitle} description={emptyDescription} action={emptyAction} />;
  const layout = phone ? cardLayout(columns) : null;
  if (layout) {
    return (
      <Stack gap="sm">
        <RowCards label={label} layout={layout} rows={rows} rowKey={rowKey} onRowClick={onRowClick} renderExpanded={renderExpanded} />
        {footer}
      </Stack>
    );
  }
  return (
    <Stack gap="sm">
      {/* Tables that leave columns out on a phone fit it; the others keep a width to scroll sideways in. */}
      <Table.ScrollContainer minWidth={columns.some((c) => c.visibleFrom) ? 0 : 600}>
        <Table aria-label={label} highlightOnHover={!!onRowClick} verticalSpacing="sm" striped={false}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.key} visibleFrom={c.visibleFrom} style={{ width: c.width, minWidth: c.minWidth, textAlign: c.align }}>
                  {c.header}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => {
              const expanded = renderExpanded?.(row) ?? null;
              return (
                <RowWithExpansion key={rowKey(row)} span={columns.length} expanded={expanded}>
                  <Table.Tr
                    onClick={onRowClick ? () => onRowClick(row) : undefined}
                    style={onRowClick ? { cursor: 'pointer' } : undefined}
                  >
                    {columns.map((c) => (
                      <Table.Td key={c.key} visibleFrom={c.visibleFrom} style={{ textAlign: c.align }}>
                        {c.render(row)}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                </RowWithExpansion>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {footer}
    </Stack>
  );
}

/**
 * The rows of a list as cards, one under another: the title with the status badge beside it (under it when both do not
 * fit), the fields two to a line as label and value, the actions at the foot. A list of list items, named as the table is.
 */
function RowCards<T>({ label, layout, rows, rowKey, onRowClick, renderExpanded }: {
  label: string; layout: CardLayout<Column<T>>; rows: T[]; rowKey: (row: T) => string; onRowClick?: (row: T) => void; renderExpanded?: (row: T) => ReactNode | null;
}) {
  return (
    <Stack component="ul" role="list" aria-label={label} gap="xs" m={0} p={0} style={{ listStyle: 'none' }}>
      {rows.map((row) => {
        const expanded = renderExpanded?.(row) ?? null;
        return (
          <Paper
            component="li"
            key={rowKey(row)}
            withBorder
            radius="md"
            p="sm"
            onClick={onRowClick ? () => onRowClick(row) : undefined}
            style={{ cursor: onRowClick ? 'pointer' : undefined, minWidth: 0, overflowWrap: 'anywhere' }}
          >
            <Group justify="space-between" align="flex-start" gap="xs" wrap="wrap">
              <Box style={{ flex: '1 1 9rem', minWidth: 0 }}>
                {layout.title.map((c) => (
                  <Box key={c.key}>{cardCell(c, row)}</Box>
                ))}
              </Box>
              {layout.status.map((c) => (
                <Box key={c.key} style={{ flex: 'none', maxWidth: '100%' }}>
                  {cardCell(c, row)}
                </Box>
              ))}
            </Group>
            {layout.fields.length > 0 ? (
              <SimpleGrid component="dl" cols={2} spacing="sm" verticalSpacing={6} mt="xs" mb={0}>
                {layout.fields.map(({ column, label: fieldLabel }) => (
                  <Box key={column.key} miw={0}>
                    <Text component="dt" size="xs" c="dimmed">
                      {fieldLabel}
                    </Text>
                    <Box component="dd" m={0} fz="sm">
                      {cardCell(column, row)}
                    </Box>
                  </Box>
                ))}
              </SimpleGrid>
            ) : null}
            {layout.actions.length > 0 ? (
              <Group justify="flex-end" gap="xs" mt="xs" wrap="wrap">
                {layout.actions.map((c) => (
                  <Box key={c.key}>{cardCell(c, row)}</Box>
                ))}
              </Group>
            ) : null}
            {expanded ? <Box mt="xs">{expanded}</Box> : null}
          </Paper>
        );
      })}
    </Stack>
  );
}

function cardCell<T>(column: Column<T>, row: T): ReactNode {
  return (column.cardRender ?? column.render)(row);
}

function RowWithExpansion({ children, expanded, span }: { children: ReactNode; expanded: ReactNode | null; span: number }) {
  return (
    <>
      {children}
      {expanded ? (
        <Table.Tr>
          <Table.Td colSpan={span} bg="var(--mantine-color-gray-0)">
            {expanded}
          </Table.Td>
        </Table.Tr>
      ) : null}
    </>
  );
}

const STATUS_COLORS: Record<string, string> = {
  active: 'teal',
  accepted: 'teal',
  approved: 'teal',
  sent: 'teal',
  delivered: 'teal',
  ok: 'teal',
  succeeded: 'teal',
  pending: 'yellow',
  invited: 'blue',
  queued: 'blue',
  sending: 'blue',
  retrying: 'orange',
  declined: 'red',
  failed: 'red',
  revoked: 'gray',
  expired: 'gray',
  disabled: 'gray',
  removed: 'gray',
  withdrawn: 'gray',
  suspended: 'orange',
  closed: 'gray',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light" radius="sm" style={{ minWidth: 'max-content' }}>
      {titleCase(status)}
    </Badge>
  );
}

/** A service's status, with the day it was removed under it once it was (virtual lines, wallboards). */
export function StatusWithRemoval({ status, removedAt }: { status: string; removedAt: string | null }) {
  return (
    <div>
      <StatusBadge status={status} />
      {removedAt ? (
        <Text size="xs" c="dimmed">
          {formatDate(removedAt)}
        </Text>
      ) : null}
    </div>
  );
}

export function LoadMore({ hasNextPage, isFetchingNextPage, onLoadMore }: { hasNextPage: boolean; isFetchingNextPage: boolean; onLoadMore: () => void }) {
  if (!hasNextPage) return null;
  return (
    <Center>
      <Button variant="default" size="xs" loading={isFetchingNextPage} onClick={onLoadMore}>
        Load more
      </Button>
    </Center>
  );
}

/** Brand mark used in headers and public pages. */
export function Brand({ suffix }: { suffix?: string }) {
  return (
    <Group gap={8} wrap="nowrap">
      <Box
        w={28}
        h={28}
        style={{ borderRadius: 8, background: 'linear-gradient(135deg, var(--mantine-color-indigo-6), var(--mantine-color-cyan-5))', flex: 'none' }}
        aria-hidden
      />
      <Text fw={700} size="lg" style={{ letterSpacing: '-0.01em' }}>
        Folio
      </Text>
      {suffix ? (
        <Text c="dimmed" size="sm" fw={500}>
          {suffix}
        </Text>
      ) : null}
    </Group>
  );
}

/** Inside an area (admin, portal, operator): an address that matches no page. */
export function InAppNotFound() {
  return (
    <Stack gap="sm" py="xl">
      <Title order={2}>Page not found</Title>
      <Text c="dimmed">There is nothing at this address.</Text>
    </Stack>
  );
}

/**
 * A headline figure: a label, the figure (tabular digits, `testId` on it) and an optional hint below; in a framed card
 * (above a list, on a dashboard) or bare (inside a card of its own). `size` is the figure's font size, or one per
 * breakpoint (a size smaller on a phone, where two figures share a row).
 */
export function HeadlineFigure({ label, value, hint, testId, size = 'lg', color, framed = true }: {
  label: string; value: ReactNode; hint?: ReactNode; testId: string; size?: 'lg' | 'xl' | { base: 'lg'; sm: 'xl' }; color?: string | undefined; framed?: boolean;
}) {
  const content = (
    <>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz={size} fw={size === 'xl' ? 700 : 650} mt={size === 'xl' ? 4 : 2} c={color} data-testid={testId} style={{ fontVariantNumeric: 'tabular-nums' }}>
        {value}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </>
  );
  return framed ? <Paper withBorder radius="md" p="md">{content}</Paper> : <div>{content}</div>;
}
