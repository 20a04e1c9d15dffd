import { useEffect, useRef, useState } from 'react';
import { Alert, Badge, Button, FileInput, Group, Progress, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck, IconFileSpreadsheet } from '@tabler/icons-react';
import { ApiError, api, errorMessage, type FieldError } from '../../shared/api.ts';
import { useSession } from '../../shared/session.tsx';
import { FormError } from '../../shared/forms.tsx';
import type { RateImport, RatePlan } from './product-types.ts';

/**
 * CSV import of a rate table, with one progress bar over its two steps (see src/products/rate-import.ts):
 * - 0-50%: the upload, from the browser's own upload progress (XMLHttpRequest `upload.onprogress`); the server then checks
 *   every row before it answers (the bar waits, striped, at 50%), and the answer lists each bad row (line, column, message).
 * - 50-100%: the import, from the import record's `processedRows`, polled while the apply request runs (the server writes
 *   the table in chunks inside one transaction and commits the count after each chunk).
 * Nothing is imported from a file with errors unless the user chooses "Import only the valid rows".
 */

type Phase =
  | { kind: 'idle' }
  | { kind: 'uploading'; fraction: number }
  | { kind: 'checking' }
  | { kind: 'checked'; imp: RateImport }
  | { kind: 'importing'; imp: RateImport }
  | { kind: 'done'; imp: RateImport }
  | { kind: 'failed'; error: unknown; imp: RateImport | null };

const COLUMN_LABELS: Record<string, string> = {
  row: 'Row',
  prefix: 'Prefix',
  description: 'Description',
  pricePerMinute: 'Price per minute',
  costPerMinute: 'Cost per minute',
  taxCategory: 'Tax category',
};
const n = (x: number) => x.toLocaleString('en-GB');

/** POST JSON with upload progress (fetch cannot report it); answers like api.ts, problems as ApiError. */
function uploadWithProgress<T>(url: string, body: unknown, csrfToken: string, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'Cannot reach the server; check your connection and try again'));
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(parsed as T);
      const p = (parsed ?? {}) as Partial<{ code: string; detail: string; errors: FieldError[]; requestId: string }>;
      reject(new ApiError(xhr.status, p.code ?? `http_${xhr.status}`, p.detail ?? `Upload failed (${xhr.status})`, p.errors ?? [], p.requestId));
    };
    xhr.send(JSON.stringify(body));
  });
}

export function RateImportPanel({ plan, onImported, onClose }: { plan: RatePlan; onImported: () => Promise<unknown>; onClose: () => void }) {
  const session = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const polling = useRef<number | null>(null);
  useEffect(() => () => {
    if (polling.current !== null) window.clearInterval(polling.current);
  }, []);

  const upload = async () => {
    if (!file) return;
    setPhase({ kind: 'uploading', fraction: 0 });
    try {
      const csv = await file.text();
      const imp = await uploadWithProgress<RateImport>(
        `/api/v1/rate-plans/${plan.id}/imports`, { fileName: file.name, csv }, session.csrfToken,
        (fraction) => setPhase(fraction >= 1 ? { kind: 'checking' } : { kind: 'uploading', fraction }),
      );
      setPhase({ kind: 'checked', imp });
    } catch (error) {
      setPhase({ kind: 'failed', error, imp: null });
    }
  };

  const apply = async (imp: RateImport, onlyValidRows: boolean) => {
    setPhase({ kind: 'importing', imp: { ...imp, status: 'importing', processedRows: 0 } });
    polling.current = window.setInterval(() => {
      void api.get<RateImport>(`/api/v1/rate-imports/${imp.id}`).then((latest) => {
        setPhase((p) => (p.kind === 'importing' && latest.status === 'importing' ? { kind: 'importing', imp: latest } : p));
      }, () => undefined);
    }, 300);
    try {
      const result = await api.post<{ import: RateImport }>(`/api/v1/rate-imports/${imp.id}/apply`, { onlyValidRows });
      setPhase({ kind: 'done', imp: result.import });
      await onImported();
    } catch (error) {
      setPhase({ kind: 'failed', error, imp });
    } finally {
      if (polling.current !== null) window.clearInterval(polling.current);
      polling.current = null;
    }
  };

  const reset = () => {
    setFile(null);
    setPhase({ kind: 'idle' });
  };

  const progress = (() => {
    switch (phase.kind) {
      case 'uploading': return { value: phase.fraction * 50, label: `Uploading ${Math.round(phase.fraction * 100)}%`, animated: false, color: 'blue' };
      case 'checking': return { value: 50, label: 'Checking every row…', animated: true, color: 'blue' };
      case 'checked': return { value: 50, label: `Checked ${n(phase.imp.rowCount)} rows`, animated: false, color: phase.imp.errorCount > 0 ? 'orange' : 'blue' };
      case 'importing': {
        const total = Math.max(1, phase.imp.rowsToImport);
        return { value: 50 + (phase.imp.processedRows / total) * 50, label: `Importing ${n(phase.imp.processedRows)} of ${n(phase.imp.rowsToImport)} rates`, animated: true, color: 'blue' };
      }
      case 'done': return { value: 100, label: `Imported ${n(phase.imp.processedRows)} rates`, animated: false, color: 'teal' };
      default: return null;
    }
  })();

  const checked = phase.kind === 'checked' || phase.kind === 'importing' || phase.kind === 'done' ? phase.imp : phase.kind === 'failed' ? phase.imp : null;
  const busy = phase.kind === 'uploading' || phase.kind === 'checking' || phase.kind === 'importing';

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        One rate per line: <b>prefix, description, price per minute, cost per minute</b> (up to 6 decimals, in {plan.currency}); a header line
        is optional. Importing replaces the whole rate table of <b>{plan.name}</b>, at once. Up to 50,000 rates.
      </Text>
      <Text size="sm" c="dimmed">
        An optional <b>taxCategory</b> column (the fifth, in a file without a header line) sets each rate&apos;s
        tax: <b>standard</b> or <b>zero_rated</b> (blank means standard). Standard calls pay your tax rate on their price; zero-rated calls
        pay no tax (e.g. international destinations) and show on a zero-rated line of the monthly statement.
      </Text>
      <Group align="flex-end">
        <FileInput
          label="Rate table (CSV)"
          placeholder="Choose a .csv file"
          accept=".csv,text/csv"
          leftSection={<IconFileSpreadsheet size={16} />}
          value={file}
          onChange={(f) => { setFile(f); setPhase({ kind: 'idle' }); }}
          clearable
          disabled={busy}
          w={340}
        />
        <Button onClick={() => void upload()} disabled={!file || busy} loading={phase.kind === 'uploading' || phase.kind === 'checking'}>
          Upload and check
        </Button>
      </Group>

      {progress ? (
        <Stack gap={4}>
          <Progress value={progress.value} animated={progress.animated} striped={progress.animated} color={progress.color} size="lg" aria-label="Import progress" />
          <Text size="xs" c="dimmed" aria-live="polite" data-testid="import-progress-label">
            {progress.label}
          </Text>
        </Stack>
      ) : null}

      {phase.kind === 'failed' ? <FormError error={phase.error} title={phase.imp ? 'The import failed' : 'The file was not accepted'} /> : null}

      {checked ? <CheckResult imp={checked} /> : null}

      {phase.kind === 'checked' ? (
        <Group>
          {phase.imp.errorCount === 0 ? (
            <Button color="teal" onClick={() => void apply(phase.imp, false)}>
              Import {n(phase.imp.validCount)} rates
            </Button>
          ) : (
            <>
              <Button color="orange" disabled={phase.imp.validCount === 0} onClick={() => void apply(phase.imp, true)}>
                Import only the {n(phase.imp.validCount)} valid rows
              </Button>
              <Text size="sm" c="dimmed">
                or fix the file and upload it again: nothing is imported from a file with errors unless you choose to.
              </Text>
            </>
          )}
          <Button variant="default" onClick={reset}>
            Cancel
          </Button>
        </Group>
      ) : null}
      {phase.kind === 'done' ? (
        <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Rates imported">
          <Group justify="space-between">
            <Text size="sm">
              {plan.name} now has {n(phase.imp.processedRows)} rates{phase.imp.onlyValidRows ? `; ${n(phase.imp.invalidRowCount)} rows with errors were skipped` : ''}.
            </Text>
            <Button size="xs" variant="light" onClick={onClose}>
              Done
            </Button>
          </Group>
        </Alert>
      ) : null}
      {phase.kind === 'failed' && phase.imp ? (
        <Text size="sm" c="dimmed">
          {errorMessage(phase.error)} The rate table was not changed.
        </Text>
      ) : null}
    </Stack>
  );
}

function CheckResult({ imp }: { imp: RateImport }) {
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Badge variant="light" radius="sm">{n(imp.rowCount)} rows</Badge>
        <Badge variant="light" color="teal" radius="sm">{n(imp.validCount)} valid</Badge>
        {imp.invalidRowCount > 0 ? (
          <Badge variant="light" color="red" radius="sm">
            {n(imp.invalidRowCount)} with errors
          </Badge>
        ) : null}
      </Group>
      {imp.errors.length > 0 ? (
        <>
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title={`${n(imp.errorCount)} error${imp.errorCount === 1 ? '' : 's'} in the file`}>
            <Text size="sm">
              {imp.errorCount > imp.errors.length ? `The first ${n(imp.errors.length)} are listed. ` : ''}Lines are counted from the top of the file (the header is line 1).
            </Text>
          </Alert>
          <ScrollArea.Autosize mah={280}>
            <Table aria-label="Rows with errors" verticalSpacing={4} striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={80}>Line</Table.Th>
                  <Table.Th w={180}>Column</Table.Th>
                  <Table.Th>Problem</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {imp.errors.map((e, i) => (
                  <Table.Tr key={`${e.line}-${e.column}-${i}`}>
                    <Table.Td>{e.line}</Table.Td>
                    <Table.Td>{COLUMN_LABELS[e.column] ?? e.column}</Table.Td>
                    <Table.Td>{e.message}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        </>
      ) : null}
    </Stack>
  );
}
