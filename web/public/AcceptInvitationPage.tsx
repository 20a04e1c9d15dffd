import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { IconCircleCheck } from '@tabler/icons-react';
import { api, isApiError } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { formatDateTime } from '../shared/format.ts';
import { PublicLayout } from '../shared/PublicLayout.tsx';
import { ErrorState, LoadingState } from '../shared/ui.tsx';
import type { Invitation } from '../shared/types.ts';

export function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const invitation = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => api.get<Invitation>(`/api/v1/auth/invitations/${encodeURIComponent(token)}`),
    enabled: token !== '',
    retry: false,
  });
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const invitedName = invitation.data?.name;
  useEffect(() => {
    if (invitedName) setName((n) => n || invitedName);
  }, [invitedName]);
  const accept = useMutation({ mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/invitations/accept', { token, name: name.trim(), password }) });

  if (!token) {
    return (
      <PublicLayout title="Accept your invitation">
        <Alert color="red" variant="light" role="alert">
          This link has no invitation token. Open the link from your email again.
        </Alert>
      </PublicLayout>
    );
  }
  if (invitation.isPending) {
    return (
      <PublicLayout title="Accept your invitation">
        <LoadingState label="Looking up your invitation…" />
      </PublicLayout>
    );
  }
  if (invitation.isError) {
    const gone = isApiError(invitation.error) && invitation.error.status === 404;
    return (
      <PublicLayout title="Accept your invitation">
        <Stack>
          {gone ? (
            <Alert color="orange" variant="light" role="alert" title="This invitation is no longer valid">
              It may have been used already, revoked, or it has expired. Ask whoever invited you to send a new one.
            </Alert>
          ) : (
            <ErrorState error={invitation.error} onRetry={() => void invitation.refetch()} />
          )}
          <Anchor component={Link} to="/login" size="sm">
            Go to sign in
          </Anchor>
        </Stack>
      </PublicLayout>
    );
  }
  const inv = invitation.data;
  if (accept.isSuccess) {
    return (
      <PublicLayout title="You're all set">
        <Stack>
          <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status">
            Your account is ready. Sign in as <b>{inv.email}</b> with the password you just chose.
          </Alert>
          <Button component={Link} to={`/login?email=${encodeURIComponent(inv.email)}`}>
            Sign in
          </Button>
        </Stack>
      </PublicLayout>
    );
  }
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    accept.mutate();
  };
  const where = inv.customerName ? `${inv.customerName} (through ${inv.partnerName})` : inv.partnerName;
  if (inv.addressHasAccount) {
    return (
      <PublicLayout title={`Join ${inv.customerName ?? inv.partnerName}`} subtitle={<>You have been invited to {where} on Folio.</>}>
        <Stack>
          <Alert color="orange" variant="light" role="alert" title="This address already has a Folio account">
            <b>{inv.email}</b> already has a Folio account, with another provider or organisation, and one address holds one
            account, so this invitation cannot be accepted with it. Ask whoever invited you to invite another of your
            addresses.
          </Alert>
          <Anchor component={Link} to={`/login?email=${encodeURIComponent(inv.email)}`} size="sm">
            Sign in to your account instead
          </Anchor>
        </Stack>
      </PublicLayout>
    );
  }
  return (
    <PublicLayout title={`Join ${inv.customerName ?? inv.partnerName}`} subtitle={<>You have been invited to {where} on Folio.</>}>
      <form onSubmit={onSubmit} noValidate aria-label="Accept invitation">
        <Stack>
          <FormError error={accept.error} fields={['name', 'password']} />
          <TextInput label="Email" value={inv.email} readOnly disabled />
          <TextInput label="Your name" autoComplete="name" value={name} onChange={(e) => { setName(e.currentTarget.value); if (accept.error) accept.reset(); }} error={fieldError(accept.error, 'name')} required />
          <PasswordInput label="Choose a password" description="At least 10 characters" autoComplete="new-password" value={password} onChange={(e) => { setPassword(e.currentTarget.value); setMismatch(false); if (accept.error) accept.reset(); }} error={fieldError(accept.error, 'password')} required />
          <PasswordInput label="Repeat password" autoComplete="new-password" value={confirm} onChange={(e) => { setConfirm(e.currentTarget.value); setMismatch(false); }} error={mismatch ? 'The passwords do not match' : undefined} required />
          <Button type="submit" loading={accept.isPending} fullWidth>
            Create my account
          </Button>
          <Text size="xs" c="dimmed">
            This invitation expires {formatDateTime(inv.expiresAt)}.
          </Text>
        </Stack>
      </form>
    </PublicLayout>
  );
}
