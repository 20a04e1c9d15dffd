import { useState, type ReactNode } from 'react';
import { Button, Group, Modal, Stack, Text, Textarea, type ButtonProps } from '@mantine/core';
import { FormError } from './forms.tsx';

/**
 * A button that asks before it acts. With `withNote`, the dialog also takes an optional note that is passed to `onConfirm`.
 * The dialog stays open (showing the error) when the action fails.
 */
export function ConfirmButton(props: {
  label: string;
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  color?: string;
  buttonProps?: ButtonProps;
  ariaLabel?: string;
  withNote?: boolean;
  noteLabel?: string;
  disabled?: boolean;
  onConfirm: (note: string) => Promise<unknown>;
}) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const close = () => {
    setOpen(false);
    setNote('');
    setError(null);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm(note.trim());
      close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button size="xs" variant="light" color={props.color} aria-label={props.ariaLabel} disabled={props.disabled} onClick={() => setOpen(true)} {...props.buttonProps}>
        {props.label}
      </Button>
      <Modal opened={open} onClose={close} title={props.title} centered>
        <Stack>
          <FormError error={error} />
          {typeof props.message === 'string' ? <Text size="sm">{props.message}</Text> : props.message}
          {props.withNote ? (
            <Textarea label={props.noteLabel ?? 'Note (optional)'} value={note} onChange={(e) => setNote(e.currentTarget.value)} autosize minRows={2} maxRows={6} />
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button color={props.color} loading={busy} onClick={() => void confirm()}>
              {props.confirmLabel ?? props.label}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
