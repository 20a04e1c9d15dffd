import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { IconCircleCheck } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { PublicLayout } from '../shared/PublicLayout.tsx';

export function ForgotPasswordPage() {
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const request = useMutation({ mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/password-reset', { email: email.trim() }) });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate();
  };
  if (request.isSuccess) {
    return (
      <PublicLayout title="Check your email">
        <Stack>
          <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status">
            If an account exists for <b>{email.trim()}</b>, we have sent it a link to choose a new password. The link works once and expires soon.
          </Alert>
          <Anchor component={Link} to="/login" size="sm">
            Back to sign in
          </Anchor>
        </Stack>
      </PublicLayout>
    );
  }
  return (
    <PublicLayout title="Reset your password" subtitle="Enter your email and we will send you a link to choose a new password.">
      <form onSubmit={onSubmit} noValidate aria-label="Reset password">
        <Stack>
          <FormError error={request.error} fields={['email']} />
          <TextInput label="Email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={fieldError(request.error, 'email')} required autoFocus />
          <Button type="submit" loading={request.isPending} fullWidth>
            Send reset link
          </Button>
          <Anchor component={Link} to="/login" size="sm">
            Back to sign in
          </Anchor>
        </Stack>
      </form>
    </PublicLayout>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({ mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/password-reset/confirm', { token, password }) });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    reset.mutate();
  };
  if (!token) {
    return (
      <PublicLayout title="Reset your password">
        <Stack>
          <Alert color="red" variant="light" role="alert">
            This link has no reset token. Open the link from your email again, or ask for a new one.
          </Alert>
          <Anchor component={Link} to="/forgot-password" size="sm">
            Ask for a new link
          </Anchor>
        </Stack>
      </PublicLayout>
    );
  }
  if (reset.isSuccess) {
    return (
      <PublicLayout title="Password changed">
        <Stack>
          <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status">
            Your password has been changed. Sign in with your new password.
          </Alert>
          <Button component={Link} to="/login">
            Sign in
          </Button>
        </Stack>
      </PublicLayout>
    );
  }
  return (
    <PublicLayout title="Choose a new password" subtitle="At least 10 characters.">
      <form onSubmit={onSubmit} noValidate aria-label="Choose a new password">
        <Stack>
          <FormError error={reset.error} fields={['password']} />
          <PasswordInput label="New password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={fieldError(reset.error, 'password')} required autoFocus />
          <PasswordInput
            label="Repeat new password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
            error={mismatch ? 'The passwords do not match' : undefined}
            required
          />
          <Button type="submit" loading={reset.isPending} fullWidth>
            Change password
          </Button>
          {reset.isError ? (
            <Text size="sm">
              Link expired or used? <Anchor component={Link} to="/forgot-password">Ask for a new one</Anchor>.
            </Text>
          ) : null}
        </Stack>
      </form>
    </PublicLayout>
  );
}
