import { Alert, List, Text } from '@mantine/core';
import { IconAlertCircle } from '@tabler/icons-react';
import { errorMessage, isApiError } from './api.ts';

/** The server's message for one field, shown next to that field (Mantine's `error` prop wires aria-invalid and aria-describedby). */
export function fieldError(error: unknown, path: string): string | undefined {
  if (!isApiError(error)) return undefined;
  return humanize(error.fieldError(path));
}

/** Validator wording made friendlier where it is generic ("Too small: expected string to have >=1 characters"). */
export function humanize(message: string | undefined): string | undefined {
  if (!message) return message;
  // zod's own wording, or the API's (src/platform/validation-messages.ts: `required`, `required (empty)`).
  if (/expected string to have >=1 characters/.test(message) || /^required( \(empty\))?$/i.test(message)) return 'Required';
  const min = /expected (?:string|array) to have >=(\d+) (characters|items)/.exec(message);
  if (min) return `At least ${min[1]} ${min[2]}`;
  const max = /expected (?:string|array) to have <=(\d+) (characters|items)/.exec(message);
  if (max) return `At most ${max[1]} ${max[2]}`;
  const numberMax = /expected number to be <=?(-?[\d.]+)/.exec(message);
  if (numberMax && /too big/i.test(message)) return `At most ${numberMax[1]}`;
  const numberMin = /expected number to be >=?(-?[\d.]+)/.exec(message);
  if (numberMin && /too small/i.test(message)) return `At least ${numberMin[1]}`;
  if (/invalid email/i.test(message) || message === 'not an email address') return 'Enter a valid email address';
  return message;
}

/**
 * The form-level error: the problem's detail, plus any field errors that no field on the form shows
 * (`fields` lists the paths the form displays next to its inputs).
 */
export function FormError({ error, fields = [], title }: { error: unknown; fields?: string[]; title?: string }) {
  if (!error) return null;
  const api = isApiError(error) ? error : null;
  const shown = new Set(fields.flatMap((f) => [f, `body.${f}`]));
  const others = api ? api.errors.filter((e) => !shown.has(e.path)) : [];
  const allShown = api && api.errors.length > 0 && others.length === 0;
  return (
    <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} title={title ?? (allShown ? 'Please correct the highlighted fields' : 'That did not work')} role="alert">
      {!allShown ? <Text size="sm">{errorMessage(error)}</Text> : null}
      {others.length > 0 ? (
        <List size="sm" mt={4}>
          {others.map((e) => (
            <List.Item key={`${e.path}:${e.message}`}>
              {e.path}: {humanize(e.message)}
            </List.Item>
          ))}
        </List>
      ) : null}
    </Alert>
  );
}
