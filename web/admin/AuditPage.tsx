import { AuditApp } from './audit/AuditApp.tsx';

/** /admin/audit: the Audit app (web/admin/audit/). */
export function AuditPage() {
  return <AuditApp />;
}
