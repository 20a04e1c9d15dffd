import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Group, Modal, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { IconCircleCheck, IconMessage } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { useSession } from '../shared/session.tsx';

const SUBJECT_MAX = 200;
const MESSAGE_MAX = 5000;

interface Where {
  configured: boolean;
  email: string | null;
  name: string | null;
}

/**
 * The portal's "Contact sales" action: a short form whose message is emailed to the partner's contact-sales address,
 * with the writer as Reply-To. Hidden when the partner has set no address.
 */
export function ContactSalesButton() {
  const session = useSession();
  const [open, setOpen] = useState(false);
  if (!session.contactSalesEmail) return null;
  return (
    <>
      <Button variant="light" leftSection={<IconMessage size={16} />} onClick={() => setOpen(true)}>
        Contact sales
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Contact sales" size="lg">
        {open ? <ContactSalesForm onDone={() => setOpen(false)} /> : null}
      </Modal>
    </>
  );
}

function ContactSalesForm({ onDone }: { onDone: () => void }) {
  const where = useQuery({ queryKey: ['portal', 'contact-sales'], queryFn: ({ signal }) => api.get<Where>('/api/v1/portal/contact-sales', {}, signal) });
  const [subject, setSubject] = useState('');
  const [message, setMessage] = useState('');
  const send = useMutation({ mutationFn: () => api.post<{ notificationId: string; toEmail: string }>('/api/v1/portal/contact-sales', { subject, message }) });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate();
  };
  const to = where.data?.email ? (where.data.name ? `${where.data.name} <${where.data.email}>` : where.data.email) : null;

  if (send.data) {
    return (
      <Stack>
        <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Message sent" role="status">
          Your message is on its way to {send.data.toEmail}. Sales will reply to your email address.
        </Alert>
        <Group justify="flex-end">
          <Button onClick={onDone}>Close</Button>
        </Group>
      </Stack>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Contact sales">
      <Stack>
        <Text size="sm" c="dimmed" data-testid="contact-sales-to">
          {to ? `Your message goes to ${to}; replies come to your email address.` : 'Your message goes to the sales team.'}
        </Text>
        <FormError error={send.error} fields={['subject', 'message']} />
        <TextInput
          label="Subject"
          value={subject}
          onChange={(e) => setSubject(e.currentTarget.value)}
          maxLength={SUBJECT_MAX}
          required
          error={fieldError(send.error, 'subject')}
        />
        <Textarea
          label="Message"
          value={message}
          onChange={(e) => setMessage(e.currentTarget.value)}
          maxLength={MESSAGE_MAX}
          autosize
          minRows={5}
          maxRows={12}
          required
          description={`${message.length} / ${MESSAGE_MAX}`}
          error={fieldError(send.error, 'message')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={send.isPending} disabled={subject.trim() === '' || message.trim() === ''}>
            Send message
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
