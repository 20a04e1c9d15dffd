import { useRef, useState } from 'react';
import { Button, Group, Paper, Progress, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDownload } from '@tabler/icons-react';
import { ApiError, api, errorMessage, withQuery, type QueryValue } from '../../shared/api.ts';
import type { AuditCount } from './types.ts';

export interface ExportProgress {
  rows: number;
  bytes: number;
  /** The count (or the planner's estimate) of matching events; null while unknown. */
  total: number | null;
  exact: boolean;
}

const CR = 13;
const LF = 10;

async function problemOf(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as { code?: string; detail?: string; errors?: { path: string; message: string }[] };
    return new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? `Export failed (${res.status})`, p.errors ?? []);
  } catch {
    return new ApiError(res.status, `http_${res.status}`, `Export failed (${res.status})`);
  }
}

/**
 * Stream the CSV export of `filters`: the body is read chunk by chunk (a ReadableStream reader), rows are counted by
 * their CRLF ends as they arrive and reported against the count endpoint's figure, then the chunks become one file.
 */
export async function streamAuditCsv(
  filters: Record<string, QueryValue>,
  onProgress: (p: ExportProgress) => void,
  signal: AbortSignal,
): Promise<{ blob: Blob; filename: string; rows: number }> {
  const counted = api.get<AuditCount>('/api/v1/audit-events/count', filters, signal).catch(() => null);
  let res = await fetch(withQuery('/api/v1/audit-events/export.csv', filters), { credentials: 'same-origin', headers: { accept: 'text/csv' }, signal });
  if (res.status === 404) {
    // A server without the export route: the list's own CSV form streams the same rows.
    res = await fetch(withQuery('/api/v1/audit-events', { ...filters, format: 'csv' }), { credentials: 'same-origin', headers: { accept: 'text/csv' }, signal });
  }
  if (!res.ok || !res.body) throw await problemOf(res);
  const disposition = res.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `audit-events-${new Date().toISOString().slice(0, 10)}.csv`;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let lines = 0;
  let bytes = 0;
  let lastWasCr = false;
  let total: AuditCount | null = null;
  void counted.then((c) => {
    total = c;
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
    for (let i = 0; i < value.length; i++) {
      const b = value[i];
      if (b === LF && (i > 0 ? value[i - 1] === CR : lastWasCr)) lines++;
    }
    lastWasCr = value[value.length - 1] === CR;
    const t = total as AuditCount | null;
    onProgress({ rows: Math.max(0, lines - 1), bytes, total: t?.count ?? null, exact: t?.exact ?? true });
  }
  const rows = Math.max(0, lines - 1);
  return { blob: new Blob(chunks as BlobPart[], { type: 'text/csv;charset=utf-8' }), filename, rows };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function formatTotal(total: number, exact: boolean): string {
  if (exact) return total.toLocaleString();
  if (total >= 1_000_000) return `about ${(total / 1_000_000).toFixed(1)}M`;
  if (total >= 1_000) return `about ${Math.round(total / 1_000).toLocaleString()}k`;
  return `about ${total.toLocaleString()}`;
}

/** "Export CSV" for the current filter, with a progress bar while the file streams in, and Cancel. */
export function ExportCsvButton({ filters }: { filters: Record<string, QueryValue> }) {
  const [progress, setProgress] = useState<ExportProgress | null>(null);
  const abort = useRef<AbortController | null>(null);

  const start = async () => {
    const controller = new AbortController();
    abort.current = controller;
    setProgress({ rows: 0, bytes: 0, total: null, exact: true });
    try {
      const file = await streamAuditCsv(filters, setProgress, controller.signal);
      const url = URL.createObjectURL(file.blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = file.filename;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      notifications.show({ color: 'teal', title: 'Export ready', message: `${file.filename}: ${file.rows.toLocaleString()} events.` });
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'AbortError')) {
        notifications.show({ color: 'red', title: 'Export failed', message: errorMessage(e) });
      }
    } finally {
      abort.current = null;
      setProgress(null);
    }
  };

  if (!progress)
    return (
      <Button variant="default" leftSection={<IconDownload size={16} />} onClick={() => void start()}>
        Export CSV
      </Button>
    );
  const pct = progress.total ? Math.min(100, (progress.rows / Math.max(progress.total, 1)) * 100) : null;
  return (
    <Paper withBorder radius="md" p="xs" miw={280} role="status" aria-label="Export progress">
      <Group justify="space-between" gap="xs" mb={4} wrap="nowrap">
        <Text size="xs" data-testid="export-progress">
          Exporting {progress.rows.toLocaleString()}
          {progress.total !== null ? ` of ${formatTotal(progress.total, progress.exact)}` : ''} events · {formatBytes(progress.bytes)}
        </Text>
        <Button size="compact-xs" variant="subtle" color="red" onClick={() => abort.current?.abort()}>
          Cancel
        </Button>
      </Group>
      <Progress value={pct ?? 100} animated={pct === null} striped={pct === null} size="sm" aria-label="Exported share" />
    </Paper>
  );
}
