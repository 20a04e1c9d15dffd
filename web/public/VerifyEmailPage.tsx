import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Alert, Anchor, Button, Stack } from '@mantine/core';
import { IconCircleCheck } from '@tabler/icons-react';
import { api } from '../shared/api.ts';
import { FormError } from '../shared/forms.tsx';
import { PublicLayout } from '../shared/PublicLayout.tsx';
import { LoadingState } from '../shared/ui.tsx';

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const verify = useMutation({ mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/verify-email', { token }) });
  const started = useRef(false);
  const { mutate } = verify;
  useEffect(() => {
    if (!token || started.current) return;
    started.current = true;
    mutate();
  }, [token, mutate]);

  return (
    <PublicLayout title="Confirm your email">
      <Stack>
        {!token ? (
          <Alert color="red" variant="light" role="alert">
            This link has no verification token. Open the link from your email again.
          </Alert>
        ) : verify.isSuccess ? (
          <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status" title="Email confirmed">
            Thank you: your email address is confirmed.
          </Alert>
        ) : verify.isError ? (
          <FormError error={verify.error} title="We could not confirm your email" />
        ) : (
          <LoadingState label="Confirming your email…" />
        )}
        {verify.isSuccess ? (
          <Button component={Link} to="/login">
            Continue to sign in
          </Button>
        ) : (
          <Anchor component={Link} to="/login" size="sm">
            Back to sign in
          </Anchor>
        )}
      </Stack>
    </PublicLayout>
  );
}
