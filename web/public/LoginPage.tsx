import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { api, setCsrfToken } from '../shared/api.ts';
import { FormError, fieldError } from '../shared/forms.tsx';
import { PublicLayout } from '../shared/PublicLayout.tsx';
import { SESSION_KEY, fetchSession, homeFor } from '../shared/session.tsx';
import type { LoginAnswer } from '../shared/types.ts';

/** `next` is honoured only when it is a path inside the signed-in user's own area. */
function destination(kind: 'operator' | 'staff' | 'customer', next: string | null): string {
  const home = homeFor(kind);
  if (next && next.startsWith('/') && !next.startsWith('//') && (next === home || next.startsWith(`${home}/`) || next.startsWith(`${home}?`))) return next;
  return home;
}

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState<{ challengeId: string; expiresAt: string } | null>(null);
  const [code, setCode] = useState('');

  const finish = async (csrfToken: string) => {
    setCsrfToken(csrfToken);
    queryClient.removeQueries();
    const session = await queryClient.fetchQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 0 });
    await navigate(destination(session.user.kind, params.get('next')), { replace: true });
  };

  const login = useMutation({
    mutationFn: () => api.post<LoginAnswer>('/api/v1/auth/login', { email: email.trim(), password }),
    onSuccess: async (answer) => {
      if (answer.status === 'two_factor_required') {
        setChallenge({ challengeId: answer.challengeId, expiresAt: answer.expiresAt });
        setCode('');
        return;
      }
      await finish(answer.csrfToken);
    },
  });

  const verify = useMutation({
    mutationFn: () => api.post<LoginAnswer>('/api/v1/auth/login/verify', { challengeId: challenge?.challengeId ?? '', code: code.trim() }),
    onSuccess: async (answer) => {
      if (answer.status === 'signed_in') await finish(answer.csrfToken);
    },
  });

  if (challenge) {
    const onVerify = (e: FormEvent) => {
      e.preventDefault();
      verify.mutate();
    };
    return (
      <PublicLayout title="Check your email" subtitle={<>We sent a 6-digit sign-in code to <b>{email.trim()}</b>. It expires in 10 minutes.</>}>
        <form onSubmit={onVerify} noValidate aria-label="Enter your sign-in code">
          <Stack>
            <FormError error={verify.error} fields={['code']} />
            <TextInput
              label="Sign-in code"
              placeholder="123456"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={code}
              onChange={(e) => setCode(e.currentTarget.value.replace(/\D/g, ''))}
              error={fieldError(verify.error, 'code')}
              autoFocus
              required
              styles={{ input: { letterSpacing: '0.4em', fontSize: 20, textAlign: 'center' } }}
            />
            <Button type="submit" loading={verify.isPending || verify.isSuccess} disabled={code.length !== 6} fullWidth>
              Verify and sign in
            </Button>
            <Group justify="space-between">
              <Anchor
                component="button"
                type="button"
                size="sm"
                onClick={() => {
                  setChallenge(null);
                  setPassword('');
                  verify.reset();
                  login.reset();
                }}
              >
                Use a different account
              </Anchor>
              <Anchor component="button" type="button" size="sm" onClick={() => { verify.reset(); login.mutate(); }}>
                Send a new code
              </Anchor>
            </Group>
            <Text size="xs" c="dimmed">
              Running locally? Codes also arrive in the <Anchor component={Link} to={`/mailbox?to=${encodeURIComponent(email.trim())}`} target="_blank" size="xs">dev mailbox</Anchor>.
            </Text>
          </Stack>
        </form>
      </PublicLayout>
    );
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <PublicLayout title="Sign in to Folio" subtitle="Admin portal, user portal and operator console">
      <form onSubmit={onSubmit} noValidate aria-label="Sign in">
        <Stack>
          <FormError error={login.error} fields={['email', 'password']} />
          <TextInput
            label="Email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={fieldError(login.error, 'email')}
            required
            autoFocus
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={fieldError(login.error, 'password')}
            required
          />
          <Group justify="flex-end">
            <Anchor component={Link} to={`/forgot-password${email ? `?email=${encodeURIComponent(email.trim())}` : ''}`} size="sm">
              Forgot password?
            </Anchor>
          </Group>
          <Button type="submit" loading={login.isPending || (login.isSuccess && login.data.status === 'signed_in')} fullWidth>
            Sign in
          </Button>
        </Stack>
      </form>
    </PublicLayout>
  );
}
