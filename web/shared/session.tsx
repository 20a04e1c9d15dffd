import { createContext, useContext, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Center, Container } from '@mantine/core';
import { api, isSignedOut, setCsrfToken } from './api.ts';
import type { Session, UserKind } from './types.ts';
import { ErrorState, LoadingState } from './ui.tsx';

export const SESSION_KEY = ['session'] as const;

export async function fetchSession(): Promise<Session> {
  const s = await api.get<Session>('/api/v1/auth/session');
  setCsrfToken(s.csrfToken);
  return s;
}

export function useSessionQuery() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: fetchSession,
    retry: (count, error) => !isSignedOut(error) && count < 2,
    staleTime: 30_000,
  });
}

export function homeFor(kind: UserKind): string {
  return kind === 'operator' ? '/operator' : kind === 'staff' ? '/admin' : '/portal';
}

const SessionContext = createContext<Session | null>(null);

/** The signed-in session, inside a RequireSession. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside RequireSession');
  return s;
}

/** Renders children only for a signed-in user of `kind`: others go to their own home, signed-out people to /login. */
export function RequireSession({ kind, children }: { kind: UserKind; children: ReactNode }) {
  const q = useSessionQuery();
  const location = useLocation();
  if (q.isError) {
    if (isSignedOut(q.error)) {
      const next = encodeURIComponent(location.pathname + location.search);
      return <Navigate to={`/login?next=${next}`} replace />;
    }
    if (!q.data) {
      return (
        <Container size="sm" py="xl">
          <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not load your session" />
        </Container>
      );
    }
  }
  if (!q.data) {
    return (
      <Center h="100vh">
        <LoadingState label="Loading your workspace…" />
      </Center>
    );
  }
  if (q.data.user.kind !== kind) return <Navigate to={homeFor(q.data.user.kind)} replace />;
  return <SessionContext value={q.data}>{children}</SessionContext>;
}

export function useSignOut() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: () => api.post<{ ok: true }>('/api/v1/auth/logout'),
    onSettled: async () => {
      setCsrfToken(null);
      await navigate('/login', { replace: true });
      queryClient.clear();
    },
  });
}
