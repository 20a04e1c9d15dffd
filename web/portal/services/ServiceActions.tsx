import type { ReactNode } from 'react';
import { Button, Group } from '@mantine/core';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';
import { StatusWithRemoval } from '../../shared/ui.tsx';

/**
 * Edit and Remove of an active service (a virtual line, a wallboard): in their own column, right-aligned, or under the
 * service's name on a phone (`under`), where they may wrap.
 */
export function ServiceActions(props: { name: string; removeMessage: string; onEdit: () => void; onRemove: () => Promise<void>; under?: boolean }) {
  const under = props.under ?? false;
  return (
    <Group gap={6} justify={under ? 'flex-start' : 'flex-end'} wrap={under ? 'wrap' : 'nowrap'}>
      <Button size="xs" variant="light" aria-label={`Edit ${props.name}`} onClick={props.onEdit}>
        Edit
      </Button>
      <ConfirmButton
        label="Remove"
        ariaLabel={`Remove ${props.name}`}
        title={`Remove ${props.name}?`}
        message={props.removeMessage}
        color="red"
        onConfirm={props.onRemove}
      />
    </Group>
  );
}

/**
 * A service's status (with its removal date) and its actions under its name, on a phone only: their own columns are
 * left out there (`visibleFrom: 'sm'`).
 */
export function UnderNameOnPhone(props: { status: string; removedAt: string | null; actions: ReactNode }) {
  return (
    <Group hiddenFrom="sm" gap={6} mt={6}>
      <StatusWithRemoval status={props.status} removedAt={props.removedAt} />
      {props.actions}
    </Group>
  );
}
