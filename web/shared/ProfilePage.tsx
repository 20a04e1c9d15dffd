import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Badge, Button, Group, Paper, PasswordInput, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { api, errorMessage } from './api.ts';
import { FormError, fieldError } from './forms.tsx';
import { SESSION_KEY, useSession } from './session.tsx';
import type { Session } from './types.ts';
import { PageHeader } from './ui.tsx';

/**
 * Own profile: name, two-step sign-in (PATCH /api/v1/auth/me), email verification, the password (POST
 * /api/v1/auth/password, giving the current one) and signing out of every other device (POST
 * /api/v1/auth/sessions/revoke-others).
 */
export function ProfilePage() {
  const session = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState(session.user.name);
  const [twoFactorGuess, setTwoFactorGuess] = useState<boolean | null>(null);
  const twoFactor = session.user.twoFactorEnabled ?? twoFactorGuess;

  const apply = (answer: Partial<Session>) => {
    queryClient.setQueryData<Session>(SESSION_KEY, (old) => (old ? { ...old, ...answer, user: { ...old.user, ...answer.user }, csrfToken: old.csrfToken } : old));
    void queryClient.invalidateQueries({ queryKey: SESSION_KEY });
  };
  const saveName = useMutation({
    mutationFn: () => api.patch<Partial<Session>>('/api/v1/auth/me', { name: name.trim() }),
    onSuccess: (answer) => {
      apply(answer);
      notifications.show({ color: 'teal', message: 'Your name is saved.' });
    },
  });
  const setTwoFactor = useMutation({
    mutationFn: (on: boolean) => api.patch<Partial<Session>>('/api/v1/auth/me', { twoFactorEnabled: on }),
    onSuccess: (answer, on) => {
      setTwoFactorGuess(on);
      apply(answer);
      notifications.show({ color: 'teal', message: on ? 'Two-step sign-in is on.' : 'Two-step sign-in is off.' });
    },
  });
  const resend = useMutation({
    mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/verify-email/resend'),
    onSuccess: () => notifications.show({ color: 'teal', message: `We sent a new verification link to ${session.user.email}.` }),
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });

  const [signedOutElsewhere, setSignedOutElsewhere] = useState<number | null>(null);
  const signOutOthers = useMutation({
    mutationFn: () => api.post<{ revoked: number }>('/api/v1/auth/sessions/revoke-others'),
    onMutate: () => setSignedOutElsewhere(null),
    onSuccess: (answer) => setSignedOutElsewhere(answer.revoked),
  });

  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [repeated, setRepeated] = useState('');
  const [passwordChanged, setPasswordChanged] = useState<number | null>(null);
  const mismatch = repeated !== '' && repeated !== newPassword ? 'not the same as the new password' : undefined;
  const tooShort = newPassword !== '' && newPassword.length < 10 ? 'at least 10 characters' : undefined;
  const changePassword = useMutation({
    mutationFn: () => api.post<{ otherSessionsEnded: number }>('/api/v1/auth/password', { currentPassword, newPassword }),
    onMutate: () => setPasswordChanged(null),
    onSuccess: (answer) => {
      setCurrentPassword('');
      setNewPassword('');
      setRepeated('');
      setPasswordChanged(answer.otherSessionsEnded);
    },
  });
  const onChangePassword = (e: FormEvent) => {
    e.preventDefault();
    if (mismatch || tooShort || currentPassword === '' || newPassword === '') return;
    changePassword.mutate();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    saveName.mutate();
  };

  return (
    <Stack maw={640} gap="lg">
      <PageHeader title="Profile" description="Your name, how you sign in, and where you are signed in." />
      <Paper withBorder radius="md" p="lg" component="section" aria-label="Your details">
        <form onSubmit={onSubmit} noValidate>
          <Stack>
            <FormError error={saveName.error} fields={['name']} />
            <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(saveName.error, 'name')} required />
            <TextInput
              label="Email"
              value={session.user.email}
              readOnly
              disabled
              rightSectionWidth={90}
              rightSection={
                <Badge size="sm" variant="light" color={session.user.emailVerified ? 'teal' : 'orange'}>
                  {session.user.emailVerified ? 'Verified' : 'Unverified'}
                </Badge>
              }
            />
            {!session.user.emailVerified ? (
              <Alert color="orange" variant="light">
                <Group justify="space-between">
                  <Text size="sm">Your email address is not confirmed yet.</Text>
                  <Button size="xs" variant="light" color="orange" loading={resend.isPending} onClick={() => resend.mutate()}>
                    Resend verification email
                  </Button>
                </Group>
              </Alert>
            ) : null}
            <Group justify="flex-end">
              <Button type="submit" loading={saveName.isPending} disabled={name.trim() === session.user.name || name.trim() === ''}>
                Save name
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="password-title">
        <form onSubmit={onChangePassword} noValidate>
          <Stack gap="sm">
            <Title order={3} size="h5" id="password-title">
              Password
            </Title>
            <Text size="sm" c="dimmed">
              Give your current password, then the new one. You stay signed in here; other devices are signed out.
            </Text>
            <FormError error={changePassword.error} fields={['currentPassword', 'newPassword']} />
            {passwordChanged !== null ? (
              <Alert color="teal" variant="light" role="status">
                {passwordChanged === 0
                  ? 'Your password is changed.'
                  : `Your password is changed, and ${passwordChanged} other ${passwordChanged === 1 ? 'device was' : 'devices were'} signed out.`}
              </Alert>
            ) : null}
            <PasswordInput
              label="Current password" autoComplete="current-password" value={currentPassword} required
              onChange={(e) => setCurrentPassword(e.currentTarget.value)} error={fieldError(changePassword.error, 'currentPassword')}
            />
            <PasswordInput
              label="New password" description="At least 10 characters" autoComplete="new-password" value={newPassword} required
              onChange={(e) => setNewPassword(e.currentTarget.value)} error={tooShort ?? fieldError(changePassword.error, 'newPassword')}
            />
            <PasswordInput
              label="New password again" autoComplete="new-password" value={repeated} required
              onChange={(e) => setRepeated(e.currentTarget.value)} error={mismatch}
            />
            <Group justify="flex-end">
              <Button
                type="submit" loading={changePassword.isPending}
                disabled={currentPassword === '' || newPassword === '' || repeated !== newPassword || tooShort !== undefined}
              >
                Change password
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="two-factor-title">
        <Stack gap="sm">
          <Title order={3} size="h5" id="two-factor-title">
            Two-step sign-in
          </Title>
          <Text size="sm" c="dimmed">
            After your password, we email you a 6-digit code to finish signing in.
            {session.user.kind === 'staff' ? ' Your provider may require it for all staff.' : ''}
            {session.user.kind === 'operator' ? ' Always on for the platform operator.' : ''}
          </Text>
          <FormError error={setTwoFactor.error} />
          {session.user.kind === 'operator' ? null : twoFactor === null || twoFactor === undefined ? (
            <Stack gap="xs">
            <Text size="xs" c="dimmed">
              Your current setting is not shown yet; choose one to set it.
            </Text>
            <Group>
              <Button variant="light" loading={setTwoFactor.isPending && setTwoFactor.variables} onClick={() => setTwoFactor.mutate(true)}>
                Turn on two-step sign-in
              </Button>
              <Button variant="default" loading={setTwoFactor.isPending && !setTwoFactor.variables} onClick={() => setTwoFactor.mutate(false)}>
                Turn off
              </Button>
            </Group>
            </Stack>
          ) : (
            <Switch
              label="Email me a sign-in code"
              checked={twoFactor}
              disabled={setTwoFactor.isPending}
              onChange={(e) => setTwoFactor.mutate(e.currentTarget.checked)}
            />
          )}
        </Stack>
      </Paper>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="other-devices-title">
        <Stack gap="sm">
          <Title order={3} size="h5" id="other-devices-title">
            Other devices
          </Title>
          <Text size="sm" c="dimmed">
            Still signed in on a shared computer or a lost phone? Sign out everywhere except here.
          </Text>
          <FormError error={signOutOthers.error} />
          {signedOutElsewhere !== null ? (
            <Alert color="teal" variant="light" role="status">
              {signedOutElsewhere === 0
                ? 'You were not signed in on any other device.'
                : `Signed out of ${signedOutElsewhere} other ${signedOutElsewhere === 1 ? 'device' : 'devices'}. You are still signed in here.`}
            </Alert>
          ) : null}
          <Group>
            <Button variant="light" color="red" loading={signOutOthers.isPending} onClick={() => signOutOthers.mutate()}>
              Sign out of other devices
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}
