import { Button, Group } from '@mantine/core';
import { ConfirmButton } from '../../shared/ConfirmButton.tsx';

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
