import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, FileInput, Group, Image, NumberInput, Paper, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPhoto, IconUpload } from '@tabler/icons-react';
import { ApiError, apiRequest, isApiError, type FieldError } from '../../shared/api.ts';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { FormError, fieldError } from '../../shared/forms.tsx';
import { useSession } from '../../shared/session.tsx';
import { ErrorState, LoadingState } from '../../shared/ui.tsx';
import type { InvoicingSettings as Settings, NumberFormats } from '../invoices/invoice-types.ts';

const SETTINGS_KEY = ['settings', 'invoicing'] as const;
const SETTINGS_PATH = '/api/v1/settings/invoicing';
const LOGO_PATH = '/api/v1/settings/invoicing/logo';
const MAX_LOGO_BYTES = 256 * 1024;
const LOGO_TYPES = ['image/png', 'image/jpeg'];

/** The formats set here, by the API's names (not `top_up`, topUp's deprecated name). */
type FormatKey = Exclude<keyof NumberFormats, 'top_up'>;

const FORMAT_TYPES: { type: FormatKey; label: string }[] = [
  { type: 'purchase', label: 'Purchase invoice number format' },
  { type: 'monthly', label: 'Monthly statement number format' },
  { type: 'topUp', label: 'Top-up invoice number format' },
  { type: 'creditNote', label: 'Credit note number format' },
];

const TOKEN = /\{(YYYY|YY|MM|DD|seq(?::0?(\d{1,2}))?)\}/g;

/** The shape a format gives a number issued today (counter 1), like the server's formatter (src/invoices/invoice-numbers.ts). */
export function exampleNumber(format: string, sequence = 1, at = new Date()): string {
  return format.replace(TOKEN, (_m, token: string, width: string | undefined) => {
    switch (token) {
      case 'YYYY': return String(at.getUTCFullYear());
      case 'YY': return String(at.getUTCFullYear() % 100).padStart(2, '0');
      case 'MM': return String(at.getUTCMonth() + 1).padStart(2, '0');
      case 'DD': return String(at.getUTCDate()).padStart(2, '0');
      default: return String(sequence).padStart(width ? Math.min(Number(width), 12) : 0, '0');
    }
  });
}

interface Form {
  numberFormats: Record<FormatKey, string>;
  dueDays: number | string;
  legalName: string;
  address: string;
  taxId: string;
  email: string;
  paymentInstructions: string;
}

function formOf(s: Settings): Form {
  return {
    numberFormats: { purchase: s.numberFormats.purchase, monthly: s.numberFormats.monthly, topUp: s.numberFormats.topUp, creditNote: s.numberFormats.creditNote },
    dueDays: s.dueDays,
    legalName: s.legalName ?? '',
    address: s.address ?? '',
    taxId: s.taxId ?? '',
    email: s.email ?? '',
    paymentInstructions: s.paymentInstructions ?? '',
  };
}

const orNull = (s: string) => (s.trim() === '' ? null : s.trim());

/** The due days the API takes (src/settings/invoicing-settings.routes.ts: a whole number from 0 to 365). */
export const DUE_DAYS_MIN = 0;
export const DUE_DAYS_MAX = 365;

/**
 * What is wrong with the due days typed, said next to the field: null for a whole number from 0 to 365. Never
 * corrected silently: -1 is not saved as 1, 100000 not as 365, an empty field not left as it was.
 */
export function dueDaysProblem(value: number | string): string | null {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const range = `${DUE_DAYS_MIN} to ${DUE_DAYS_MAX}`;
  if (text === '') return `Enter the number of days, ${range}`;
  const n = typeof value === 'number' ? value : Number(text);
  if (!Number.isFinite(n) || !Number.isInteger(n) || !/^-?\d+$/.test(text)) return `A whole number of days, ${range}`;
  if (n < DUE_DAYS_MIN || n > DUE_DAYS_MAX) return `${range} days`;
  return null;
}

/** The server's message for a number format (the PUT names `numberFormats.<field>` as it was sent). */
function formatError(error: unknown, type: FormatKey): string | undefined {
  return fieldError(error, `numberFormats.${type}`);
}

async function problemOf(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as { code?: string; detail?: string; title?: string; errors?: FieldError[]; requestId?: string };
    return new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? p.title ?? 'Request failed', p.errors ?? [], p.requestId);
  } catch {
    return new ApiError(res.status, `http_${res.status}`, `Request failed (${res.status})`);
  }
}

/**
 * Portal Settings > Invoicing: number formats per type (with the shape of a number issued today), due days, the seller's
 * details printed on invoices and PDFs, and the logo (PNG or JPEG, at most 256 KiB).
 */
export function InvoicingSettings() {
  const queryClient = useQueryClient();
  const loaded = useQuery({
    queryKey: SETTINGS_KEY,
    queryFn: async ({ signal }) => {
      const res = await apiRequest<Settings>(SETTINGS_PATH, { signal });
      return { settings: res.data, etag: res.headers.get('etag') };
    },
  });
  const [form, setForm] = useState<Form | null>(null);
  // A refetch (after a save, or a logo change) refreshes the form unless it holds unsaved edits.
  const baseline = useRef<Form | null>(null);
  useEffect(() => {
    if (!loaded.data) return;
    const next = formOf(loaded.data.settings);
    const before = baseline.current;
    baseline.current = next;
    setForm((f) => (f === null || (before !== null && JSON.stringify(f) === JSON.stringify(before)) ? next : f));
  }, [loaded.data]);

  const save = useMutation({
    mutationFn: async () => {
      if (!form || !loaded.data) throw new Error('Settings not loaded');
      const body = {
        numberFormats: Object.fromEntries(FORMAT_TYPES.map(({ type }) => [type, form.numberFormats[type].trim()])),
        dueDays: Number(form.dueDays),
        legalName: orNull(form.legalName),
        address: orNull(form.address),
        taxId: orNull(form.taxId),
        email: orNull(form.email),
        paymentInstructions: orNull(form.paymentInstructions),
      };
      const res = await apiRequest<Settings>(SETTINGS_PATH, { method: 'PUT', body, headers: loaded.data.etag ? { 'if-match': loaded.data.etag } : {} });
      return { settings: res.data, etag: res.headers.get('etag') };
    },
    onSuccess: (next) => {
      queryClient.setQueryData(SETTINGS_KEY, next);
      notifications.show({ color: 'teal', title: 'Invoicing settings saved', message: 'New invoices use them from now on; issued invoices keep theirs.' });
    },
  });
  const stale = isApiError(save.error) && save.error.status === 412;

  if (loaded.isError && !loaded.data) return <ErrorState error={loaded.error} onRetry={() => void loaded.refetch()} title="Could not load the invoicing settings" />;
  if (!form || !loaded.data) return <LoadingState label="Loading invoicing settings…" />;
  const original = formOf(loaded.data.settings);
  const dirty = JSON.stringify(form) !== JSON.stringify(original);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => (f ? { ...f, [key]: value } : f));
  const dueProblem = dueDaysProblem(form.dueDays);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    // Nothing is sent while a field says it is wrong (the button is off too; Enter in a field submits).
    if (dueProblem !== null) return;
    save.mutate();
  };
  const fields = [
    'dueDays', 'legalName', 'address', 'taxId', 'email', 'paymentInstructions',
    ...FORMAT_TYPES.map((t) => `numberFormats.${t.type}`),
  ];

  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="invoicing-title">
      <Title order={3} size="h5" id="invoicing-title">
        Invoicing
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        How your invoices are numbered, when they fall due, and the details printed on them and on their PDFs.
      </Text>
      <form onSubmit={onSubmit} noValidate aria-label="Invoicing settings">
        <Stack>
          {stale ? (
            <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Someone else changed these settings" role="alert">
              <Group justify="space-between">
                <Text size="sm">Your changes were not saved. Reload the latest settings, then make your changes again.</Text>
                <Button
                  size="xs"
                  variant="light"
                  color="orange"
                  onClick={() => {
                    save.reset();
                    void loaded.refetch();
                  }}
                >
                  Reload latest
                </Button>
              </Group>
            </Alert>
          ) : (
            <FormError error={save.error} fields={fields} />
          )}
          <Text size="sm" fw={600}>
            Number formats
          </Text>
          <Text size="xs" c="dimmed" mt={-10}>
            Placeholders: {'{YYYY}'} year, {'{YY}'}, {'{MM}'} month, {'{DD}'} day, {'{seq}'} the counter, {'{seq:06}'} the counter padded to 6 digits. Each invoice type
            and credit notes keep their own counter, never reset; each format starts with its own fixed text, apart from the others and from receipts (RCT-).
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
            {FORMAT_TYPES.map((t) => (
              <TextInput
                key={t.type}
                label={t.label}
                value={form.numberFormats[t.type]}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  setForm((f) => (f ? { ...f, numberFormats: { ...f.numberFormats, [t.type]: value } } : f));
                }}
                description={
                  <span data-testid={`format-example-${t.type}`}>
                    e.g. {exampleNumber(form.numberFormats[t.type]) || '—'}
                  </span>
                }
                error={formatError(save.error, t.type)}
                maxLength={40}
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              />
            ))}
          </SimpleGrid>
          <Group align="flex-start" gap="lg">
            <NumberInput
              label="Due days"
              description="Days from issue to the due date; overdue after it"
              min={DUE_DAYS_MIN}
              max={DUE_DAYS_MAX}
              // What is typed stays as typed (Mantine would drop a minus, or clamp 100000 to 365 on blur): a value out of
              // range is said next to the field and not saved.
              clampBehavior="none"
              allowDecimal={false}
              allowNegative
              value={form.dueDays}
              onChange={(v) => set('dueDays', v)}
              error={dueProblem ?? fieldError(save.error, 'dueDays')}
              w={240}
            />
            <div>
              <Text size="sm" fw={500}>
                Tax rate
              </Text>
              <Text size="sm" data-testid="invoicing-tax-rate">
                {loaded.data.settings.taxRateBps / 100}% on standard-rated lines
              </Text>
              <Text size="xs" c="dimmed">
                Shown for reference; it is not changed here.
              </Text>
            </div>
          </Group>
          <Text size="sm" fw={600} mt="xs">
            Seller details on invoices
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
            <TextInput label="Legal name" value={form.legalName} onChange={(e) => set('legalName', e.currentTarget.value)} error={fieldError(save.error, 'legalName')} maxLength={200} />
            <TextInput label="Tax ID" description="e.g. your GST registration number" value={form.taxId} onChange={(e) => set('taxId', e.currentTarget.value)} error={fieldError(save.error, 'taxId')} maxLength={60} />
            <Textarea label="Address" value={form.address} onChange={(e) => set('address', e.currentTarget.value)} error={fieldError(save.error, 'address')} autosize minRows={2} maxRows={5} maxLength={1000} />
            <TextInput label="Billing email" type="email" description="Shown on invoices for questions" value={form.email} onChange={(e) => set('email', e.currentTarget.value)} error={fieldError(save.error, 'email')} />
          </SimpleGrid>
          <Textarea
            label="Payment instructions"
            description="How to pay other than from the portal: bank account, PayNow, cheques…"
            value={form.paymentInstructions}
            onChange={(e) => set('paymentInstructions', e.currentTarget.value)}
            error={fieldError(save.error, 'paymentInstructions')}
            autosize
            minRows={2}
            maxRows={6}
            maxLength={2000}
          />
          <Group justify="flex-end">
            <Button
              variant="default"
              disabled={!dirty || save.isPending}
              onClick={() => {
                setForm(original);
                save.reset();
              }}
            >
              Discard changes
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!dirty || stale || dueProblem !== null}>
              Save invoicing settings
            </Button>
          </Group>
        </Stack>
      </form>
      <LogoSettings hasLogo={loaded.data.settings.hasLogo} onChanged={() => queryClient.invalidateQueries({ queryKey: SETTINGS_KEY })} />
    </Paper>
  );
}

/** The logo on invoices: choose a PNG or JPEG (at most 256 KiB), see it, upload it; or remove the current one. */
function LogoSettings({ hasLogo, onChanged }: { hasLogo: boolean; onChanged: () => Promise<unknown> }) {
  // A new address after each change, so the browser never shows a cached old logo.
  const [logoVersion] = useState(() => Date.now());
  const session = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  // The image just uploaded, shown as the current logo (the API has no read-back of the logo; the PDF shows it).
  const [uploaded, setUploaded] = useState<File | null>(null);
  const [uploadedUrl, setUploadedUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  useEffect(() => {
    if (!uploaded) {
      setUploadedUrl(null);
      return;
    }
    const url = URL.createObjectURL(uploaded);
    setUploadedUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [uploaded]);
  const problem = !file ? null : !LOGO_TYPES.includes(file.type) ? 'Choose a PNG or JPEG image' : file.size > MAX_LOGO_BYTES ? `The file is ${Math.ceil(file.size / 1024)} KiB; at most 256 KiB` : null;

  const upload = useMutation({
    mutationFn: async () => {
      if (!file) throw new Error('Choose a file first');
      const res = await fetch(LOGO_PATH, {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'content-type': file.type, accept: 'application/json', 'x-csrf-token': session.csrfToken },
        body: file,
      });
      if (!res.ok) throw await problemOf(res);
    },
    onSuccess: async () => {
      notifications.show({ color: 'teal', title: 'Logo uploaded', message: 'New invoices and PDFs show it.' });
      setUploaded(file);
      setFile(null);
      await onChanged();
    },
  });
  const remove = async () => {
    const res = await fetch(LOGO_PATH, { method: 'DELETE', credentials: 'same-origin', headers: { accept: 'application/json', 'x-csrf-token': session.csrfToken } });
    if (!res.ok) throw await problemOf(res);
    notifications.show({ color: 'teal', title: 'Logo removed', message: 'Invoices show your name instead.' });
    setUploaded(null);
    await onChanged();
  };

  return (
    <Stack mt="lg" gap="sm" component="section" aria-labelledby="logo-title">
      <Text size="sm" fw={600} id="logo-title">
        Logo
      </Text>
      <FormError error={upload.error} />
      <Group align="flex-start" gap="lg">
        <Paper withBorder radius="md" w={200} h={100} p="xs" style={{ display: 'flex', alignItems: 'center', justifyContent: 'center' }}>
          {preview ? (
            <Image src={preview} alt="Chosen logo (not uploaded yet)" fit="contain" mah={80} />
          ) : hasLogo ? (
            <Image src={uploadedUrl ?? `/api/v1/settings/invoicing/logo?v=${logoVersion}`} alt="Current logo" fit="contain" mah={80} />
          ) : (
            <Stack gap={2} align="center">
              <IconPhoto size={24} color="var(--mantine-color-dimmed)" />
              <Text size="xs" c="dimmed" data-testid="logo-state">
                {hasLogo ? 'A logo is on file (see it on a PDF)' : 'No logo'}
              </Text>
            </Stack>
          )}
        </Paper>
        <Stack gap="xs">
          <FileInput
            label="Logo file"
            description="PNG or JPEG, at most 256 KiB"
            placeholder="Choose an image"
            accept="image/png,image/jpeg"
            value={file}
            onChange={setFile}
            clearable
            error={problem}
            w={280}
          />
          <Group gap="xs">
            <Button size="xs" leftSection={<IconUpload size={14} />} disabled={!file || !!problem} loading={upload.isPending} onClick={() => upload.mutate()}>
              Upload logo
            </Button>
            {hasLogo ? (
              <ConfirmButton
                label="Remove logo"
                color="red"
                title="Remove the logo?"
                message="Invoices and PDFs show your name instead of a logo."
                confirmLabel="Remove logo"
                onConfirm={remove}
              />
            ) : null}
          </Group>
        </Stack>
      </Group>
    </Stack>
  );
}
