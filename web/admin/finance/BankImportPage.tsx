import { useRef, useState, type DragEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, FileButton, Group, Paper, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconFileUpload, IconUpload } from '@tabler/icons-react';
import { api } from '../../shared/api.ts';
import { FormError } from '../../shared/forms.tsx';
import { formatDateTime } from '../../shared/format.ts';
import { usePagedList } from '../../shared/queries.ts';
import { DataTable, LoadMore, PageHeader, type Column } from '../../shared/ui.tsx';
import { BANK_IMPORT_BASE, BANK_IMPORTS_KEY, type BankStatementView } from './bank-import-types.ts';
import { LineCountBadges } from './BankImportBadges.tsx';
import { BankImportDetail } from './BankImportDetail.tsx';

/** The largest file the page sends (the API takes 5 MiB of text). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Drop a CSV file here or pick one; it is read as text and uploaded. */
function UploadBox() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [dragging, setDragging] = useState(false);
  const [localError, setLocalError] = useState<string | null>(null);
  const resetRef = useRef<() => void>(null);
  const upload = useMutation({
    mutationFn: async (file: File) => api.post<BankStatementView>('/api/v1/bank-statements', { fileName: file.name.slice(0, 255) || 'statement.csv', csv: await file.text() }),
    onSuccess: async (s) => {
      notifications.show({ color: 'teal', title: 'Statement imported', message: `${s.fileName}: ${s.counts.suggested} suggestion(s), ${s.counts.unmatched} unmatched.` });
      await queryClient.invalidateQueries({ queryKey: BANK_IMPORTS_KEY });
      void navigate(`${BANK_IMPORT_BASE}/${s.id}`);
    },
  });
  const take = (file: File | null) => {
    resetRef.current?.();
    setLocalError(null);
    upload.reset();
    if (!file) return;
    if (file.size === 0) return setLocalError(`${file.name} is empty.`);
    if (file.size > MAX_FILE_BYTES) return setLocalError(`${file.name} is larger than 5 MB: split the statement.`);
    upload.mutate(file);
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    take(e.dataTransfer.files[0] ?? null);
  };
  return (
    <Stack gap="xs">
      <Paper
        withBorder
        radius="md"
        p="lg"
        data-testid="bank-upload-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        style={{ borderStyle: 'dashed', background: dragging ? 'var(--mantine-color-blue-light)' : undefined }}
      >
        <Group justify="space-between" wrap="wrap">
          <Group gap="sm">
            <IconFileUpload size={28} stroke={1.5} />
            <div>
              <Text fw={600}>Drop a bank statement (CSV) here</Text>
              <Text size="xs" c="dimmed">
                Columns: date, amount, currency (optional), reference or description, payer name and account (optional). A header line is
                recognised; debits are kept aside; lines imported before are skipped.
              </Text>
            </div>
          </Group>
          <FileButton resetRef={resetRef} onChange={take} accept=".csv,text/csv,text/plain">
            {(props) => (
              <Button {...props} leftSection={<IconUpload size={16} />} loading={upload.isPending}>
                Choose file
              </Button>
            )}
          </FileButton>
        </Group>
      </Paper>
      {localError ? (
        <Alert color="red" variant="light" role="alert">
          {localError}
        </Alert>
      ) : null}
      <FormError error={upload.error} title="The statement could not be imported" />
    </Stack>
  );
}

function ImportList() {
  const list = usePagedList<BankStatementView>(BANK_IMPORTS_KEY, '/api/v1/bank-statements', { limit: 25 });
  const columns: Column<BankStatementView>[] = [
    {
      key: 'file', header: 'File', minWidth: 200,
      render: (s) => (
        <Anchor component={Link} to={`${BANK_IMPORT_BASE}/${s.id}`} fw={600}>
          {s.fileName}
        </Anchor>
      ),
    },
    { key: 'uploaded', header: 'Imported', render: (s) => <Text size="sm">{formatDateTime(s.createdAt)}{s.uploadedBy ? ` by ${s.uploadedBy.name}` : ''}</Text> },
    { key: 'lines', header: 'Lines', align: 'right', render: (s) => s.recordCount },
    { key: 'states', header: 'By state', minWidth: 260, render: (s) => <LineCountBadges statement={s} /> },
  ];
  return (
    <>
      <DataTable
        label="Bank statement imports"
        columns={columns}
        rows={list.rows}
        rowKey={(s) => s.id}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        emptyTitle="No statements imported yet"
        emptyDescription="Upload your bank's CSV export: each money-in line becomes a payment suggestion."
      />
      <LoadMore hasNextPage={list.hasNextPage} isFetchingNextPage={list.isFetchingNextPage} onLoadMore={() => void list.fetchNextPage()} />
    </>
  );
}

/**
 * Bank statement import (Finance app, `/admin/finance/bank-import` and `/admin/finance/bank-import/:importId`): upload a
 * CSV, see past imports; an import's lines with their proposed customer and invoices, to accept, edit or reject.
 */
export function BankImportPage() {
  const { importId } = useParams();
  if (importId) return <BankImportDetail statementId={importId} />;
  return (
    <Stack gap="md">
      <PageHeader
        title="Bank statement import"
        description="Each money-in line of a statement is matched to a customer and their open invoices. Accept, edit or reject each suggestion: an accepted line is recorded as a bank-transfer payment."
      />
      <UploadBox />
      <ImportList />
    </Stack>
  );
}
