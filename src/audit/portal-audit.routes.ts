import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal } from '../platform/access-policy.ts';
import { page, problems } from '../platform/schemas.ts';
import { portalAuditEventSchema, portalAuditQuery, portalExportAuditEventsCsv, portalListAuditEvents } from './portal-list-audit-events.ts';

/** The customer portal's Audit section (Home > Audit): the organisation's own activity, as JSON pages or streamed CSV. */
export function portalAuditRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/portal/audit-events', {
    config: { access: customerPortal({ tab: 'audit' }) },
    schema: {
      operationId: 'portalListAuditEvents', tags: ['Portal'],
      summary:
        "The organisation's own activity, newest first: owners and admins see all of it, members and guests their own actions. " +
        'Filters: type, personId, from, to. `Accept: text/csv` or `?format=csv` streams every page as CSV',
      querystring: portalAuditQuery,
      response: {
        200: {
          description: 'A page of events (JSON), or every matching event (CSV, streamed)',
          content: {
            'application/json': { schema: page(portalAuditEventSchema) },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') },
          },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const { format, limit, ...filters } = req.query;
    const csv = format ? format === 'csv' : /\btext\/csv\b/i.test(req.headers.accept ?? '');
    if (csv) {
      const chunks = await portalExportAuditEventsCsv(ctx, filters);
      const day = new Date().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="activity-${day}.csv"`).type('text/csv; charset=utf-8');
      // A stream is sent as it is, never serialised; the type provider only knows the schema's string.
      return reply.send(Readable.from(chunks, { objectMode: false }) as unknown as string);
    }
    return reply.type('application/json; charset=utf-8').send(await portalListAuditEvents(ctx, { ...filters, limit }));
  });
}
