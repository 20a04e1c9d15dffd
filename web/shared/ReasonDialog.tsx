import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { isFinalRefusal, newIdempotencyKey } from './api.ts';
import { FormError, fieldError } from './forms.tsx';

/**
 * A dialog for an action that cannot be undone and needs a reason (void an invoice, reverse a payment): what the action
 * does, a required reason (at most 500 characters), and a red button. One Idempotency-Key per attempt: a double click or
 * a network retry acts once; a refusal, or closing the dialog, ends the attempt and the next one has a new key. (Its
 * actions cannot happen twice anyway: a second void or reversal of the same thing is refused by the server.)
 */
export function ReasonDialog<T>({ opened, onClose, title, formLabel, intro, reasonDescription, submitLabel, keyPrefix, send, onDone }: {
  opened: boolean;
  onClose: () => void;
  title: string;
  /** The form's accessible name ("Void invoice"). */
  formLabel: string;
  /** What the action does, above the reason. */
  intro: ReactNode;
  /** Under the reason's label: where the reason is kept. */
  reasonDescription: string;
  submitLabel: string;
  /** The Idempotency-Key's prefix ("void", "reverse"). */
  keyPrefix: string;
  /** Sends the action with the trimmed reason and the attempt's key. */
  send: (reason: string, idempotencyKey: string) => Promise<T>;
  /** After the action succeeded and the dialog closed: say so, refresh what it changed. */
  onDone: (result: T) => Promise<unknown> | void;
}) {
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const [key, setKey] = useState(() => newIdempotencyKey(keyPrefix));
  const act = useMutation({
    mutationFn: async () => send(reason.trim(), key),
    onSuccess: async (result) => {
      close();
      await onDone(result);
    },
    onError: (e) => {
      if (isFinalRefusal(e)) setKey(newIdempotencyKey(keyPrefix));
    },
  });
  function close() {
    setReason('');
    setMissing(false);
    setKey(newIdempotencyKey(keyPrefix));
    act.reset();
    onClose();
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim() === '') {
      setMissing(true);
      return;
    }
    act.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <form noValidate aria-label={formLabel} onSubmit={submit}>
        <Stack>
          <FormError error={act.error} fields={['reason']} />
          <Text size="sm">{intro}</Text>
          <Textarea
            label="Reason"
            description={reasonDescription}
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setMissing(false);
            }}
            error={missing ? 'Required' : fieldError(act.error, 'reason')}
            required
            autosize
            minRows={2}
            maxLength={500}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={act.isPending}>
              {submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
