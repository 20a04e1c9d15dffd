import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { operatorOnly, staffApp } from '../platform/access-policy.ts';
import { asRule, idPattern, page, problems, wantsCsv } from '../platform/schemas.ts';
import { PLATFORM_CHAIN, auditCursor, auditEventSchema, auditFilterShape, auditLimit, fromBeforeTo } from './audit-view.ts';
import { listAuditEvents } from './list-audit-events.ts';
import { exportAuditEventsCsv } from './export-audit-events-csv.ts';
import { operatorListAuditEvents } from './operator-list-audit-events.ts';
import { portalAuditRoutes } from './portal-audit.routes.ts';
import { auditAppRoutes } from './audit-app.routes.ts';
import { verifyAuditChain } from './verify-chain.ts';

const TO_AFTER_FROM = asRule('must be later than from', ['to']);

const verifySchema = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  firstProblem: z
    .object({ eventId: z.string().nullable(), seq: z.number().int(), kind: z.enum(['altered', 'missing', 'out_of_order']), detail: z.string() })
    .nullable(),
});

export function auditRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/audit-events', {
    config: { access: staffApp('audit') },
    schema: {
      operationId: 'listAuditEvents', tags: ['Audit'],
      summary: "The partner's audit trail, newest first; `Accept: text/csv` or `?format=csv` streams every page as CSV",
      querystring: z
        .strictObject({ ...auditFilterShape, limit: auditLimit, cursor: auditCursor, format: z.enum(['json', 'csv']).optional() })
        .refine(fromBeforeTo, TO_AFTER_FROM),
      response: {
        200: {
          description: 'A page of events (JSON), or every matching event (CSV, streamed)',
          content: {
            'application/json': { schema: page(auditEventSchema) },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') },
          },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const { format, limit, ...filters } = req.query;
    if (wantsCsv(req, format)) {
      const chunks = await exportAuditEventsCsv(ctx, filters);
      const day = new Date().toISOString().slice(0, 10);
      reply.header('content-disposition', `attachment; filename="audit-events-${day}.csv"`).type('text/csv; charset=utf-8');
      // A stream is sent as it is, never serialised; the type provider only knows the schema's string.
      return reply.send(Readable.from(chunks, { objectMode: false }) as unknown as string);
    }
    return reply.type('application/json; charset=utf-8').send(await listAuditEvents(ctx, { ...filters, limit }));
  });

  app.get('/api/v1/audit-events/verify', {
    config: { access: staffApp('audit') },
    schema: {
      operationId: 'verifyAuditChain', tags: ['Audit'],
      summary: "Recompute the partner's hash chain and report its first problem: altered, missing or out-of-order events",
      querystring: z.strictObject({}),
      response: { 200: verifySchema, ...problems },
    },
  }, async (req, reply) => {
    const result = await verifyAuditChain(ctxOf(req, deps));
    const chain = result.chains[0];
    return reply.send({ ok: result.ok, checked: result.checked, firstProblem: chain?.firstProblem ?? null });
  });

  app.get('/api/v1/operator/audit-events', {
    config: { access: operatorOnly },
    schema: {
      operationId: 'operatorListAuditEvents', tags: ['Operator'],
      summary: 'The audit trail of one partner, of the platform (`partnerId=platform`), or of everyone, newest first',
      querystring: z
        .strictObject({
          partnerId: z.string().refine((v) => v === PLATFORM_CHAIN || idPattern('ptn').test(v), `a ptn_ id, or ${PLATFORM_CHAIN}`).optional().describe('a partner id, or "platform" for events without a partner'),
          ...auditFilterShape, limit: auditLimit, cursor: auditCursor,
        })
        .refine(fromBeforeTo, TO_AFTER_FROM),
      response: { 200: page(auditEventSchema.extend({ partnerId: z.string().nullable() })), ...problems },
    },
  }, async (req, reply) => reply.send(await operatorListAuditEvents(ctxOf(req, deps), req.query)));

  // The customer portal's Audit section: src/audit/portal-audit.routes.ts.
  portalAuditRoutes(app, deps);
  // The Audit app's detail, count, export, chain status, customer timeline and the operator's retention.
  auditAppRoutes(app, deps);
}
