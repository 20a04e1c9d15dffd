import { useQuery } from '@tanstack/react-query';
import { api } from '../../shared/api.ts';
import { appLabel as sharedAppLabel } from '../../shared/apps.tsx';
import type { AuditCatalog } from './types.ts';
import { humanAction } from '../../shared/format.ts';

/** Used until (or if) the catalog endpoint answers: the apps every event is filed under. */
const FALLBACK: AuditCatalog = {
  apps: [
    ['customer', 'Customer'], ['product', 'Product'], ['invoice', 'Invoice'], ['finance', 'Finance'], ['discount', 'Discount'],
    ['settings', 'Portal Settings'], ['access', 'Access Control'], ['portal', 'Portal activity'], ['auth', 'Sign-ins'], ['usage', 'Usage'],
    ['audit', 'Audit'], ['operator', 'Platform'],
  ].map(([app, label]) => ({ app: app!, label: label!, actions: [] })),
  actorTypes: ['user', 'api_key', 'system', 'operator'],
  authMethods: [
    { authMethod: 'password', label: 'Password' }, { authMethod: 'password_2fa', label: 'Password + 2FA' },
    { authMethod: 'api_key', label: 'API key' }, { authMethod: 'system', label: 'System job' }, { authMethod: 'operator', label: 'Operator' },
  ],
};

/** GET /api/v1/audit-events/catalog: apps, their actions and labels (the filter bar's lists). */
export function useAuditCatalog(): AuditCatalog {
  const q = useQuery({
    queryKey: ['audit-events', 'catalog'],
    queryFn: ({ signal }) => api.get<AuditCatalog>('/api/v1/audit-events/catalog', {}, signal),
    staleTime: 10 * 60_000,
    retry: 1,
  });
  return q.data ?? FALLBACK;
}

export function catalogAppLabel(catalog: AuditCatalog, app: string): string {
  return catalog.apps.find((a) => a.app === app)?.label ?? sharedAppLabel(app);
}

export function catalogActionLabel(catalog: AuditCatalog, action: string): string {
  for (const a of catalog.apps) {
    const found = a.actions.find((x) => x.action === action);
    if (found) return found.label;
  }
  return humanAction(action);
}

export function authMethodLabel(catalog: AuditCatalog, method: string | null | undefined): string | null {
  if (!method) return null;
  return catalog.authMethods.find((m) => m.authMethod === method)?.label ?? method.replaceAll('_', ' ');
}

const ACTOR_TYPES: Record<string, string> = { user: 'Person', api_key: 'API key', system: 'System job', operator: 'Platform operator' };
export function actorTypeLabel(type: string): string {
  return ACTOR_TYPES[type] ?? type.replaceAll('_', ' ');
}
