import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { operatorOnly, staffApp } from '../platform/access-policy.ts';
import { asRule, idOf, page, problems } from '../platform/schemas.ts';
import { pathId } from '../access/route-schemas.ts';
import { ACTOR_TYPES, AUDIT_APPS, AUTH_METHODS } from './audit-catalog.ts';
import { auditCatalog } from './audit-catalog.ts';
import { auditCursor, auditEventSchema, auditFilterShape, auditLimit, fromBeforeTo } from './audit-view.ts';
import { countAuditEvents } from './count-audit-events.ts';
import { exportAuditEventsCsv } from './export-audit-events-csv.ts';
import { auditEventDetailSchema, getAuditEvent } from './get-audit-event.ts';
import { customerAuditTimeline } from './customer-audit-timeline.ts';
import { chainStatusSchema, getChainStatus } from './get-chain-status.ts';
import { cutAuditRetention, setAuditRetention } from './audit-retention.ts';

const TO_AFTER_FROM = asRule('must be later than from', ['to']);
const TAGS = ['Audit'];

const catalogSchema = z.object({
  apps: z.array(z.object({ app: z.enum(AUDIT_APPS), label: z.string(), actions: z.array(z.object({ action: z.string(), label: z.string() })) })),
  actorTypes: z.array(z.enum(ACTOR_TYPES)),
  authMethods: z.array(z.object({ authMethod: z.enum(AUTH_METHODS), label: z.string() })),
});

const { customerId: _customerId, ...timelineFilterShape } = auditFilterShape;

/**
 * The Audit app (issue 7): catalog, count, streamed export, event detail, chain status; a customer's timeline (shown
 * in the Customer app, to staff holding the Audit app); the operator's retention. The list itself and the on-demand
 * verify are in audit.routes.ts.
 */
export function auditAppRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('audit');

  app.get('/api/v1/audit-events/catalog', {
    config: { access },
    schema: {
      operationId: 'auditCatalog', tags: TAGS,
      summary: 'The apps and actions events are filed under (the App and Action filters), actor types and sign-in methods',
      querystring: z.strictObject({}),
      response: { 200: catalogSchema, ...problems },
    },
  }, async (_req, reply) => reply.send(auditCatalog()));

  app.get('/api/v1/audit-events/count', {
    config: { access },
    schema: {
      operationId: 'countAuditEvents', tags: TAGS,
      summary: 'How many events the filters match (for an export progress bar): exact up to 100,000, an estimate beyond (`exact: false`)',
      querystring: z.strictObject({ ...auditFilterShape }).refine(fromBeforeTo, TO_AFTER_FROM),
      response: { 200: z.object({ count: z.number().int(), exact: z.boolean() }), ...problems },
    },
  }, async (req, reply) => reply.send(await countAuditEvents(ctxOf(req, deps), req.query)));

  app.get('/api/v1/audit-events/export.csv', {
    config: { access },
    schema: {
      operationId: 'exportAuditEventsCsv', tags: TAGS,
      summary: 'Every event the filters match, newest first, streamed as CSV (read in batches: the server holds one batch at a time)',
      querystring: z.strictObject({ ...auditFilterShape, cursor: auditCursor }).refine(fromBeforeTo, TO_AFTER_FROM),
      response: {
        200: {
          description: 'RFC 4180 CSV with a header row, streamed',
          content: { 'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row; formula-like cells are prefixed with a single quote') } },
        },
        ...problems,
      },
    },
  }, async (req, reply) => {
    const chunks = await exportAuditEventsCsv(ctxOf(req, deps), req.query);
    const day = new Date().toISOString().slice(0, 10);
    reply.header('content-disposition', `attachment; filename="audit-events-${day}.csv"`).type('text/csv; charset=utf-8');
    return reply.send(Readable.from(chunks, { objectMode: false }) as unknown as string);
  });

  app.get('/api/v1/audit-events/chain-status', {
    config: { access },
    schema: {
      operationId: 'auditChainStatus', tags: TAGS,
      summary: "The hash chain as the worker's scheduled check left it: verified up to event N at time T, or the first broken link",
      querystring: z.strictObject({}),
      response: { 200: chainStatusSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getChainStatus(ctxOf(req, deps))));

  app.get('/api/v1/audit-events/:eventId', {
    config: { access },
    schema: {
      operationId: 'getAuditEvent', tags: TAGS,
      summary: 'One event in full: who (and how they signed in), when, from where, a field-by-field diff, and links to its target',
      params: z.strictObject({ eventId: idOf('evt') }),
      response: { 200: auditEventDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getAuditEvent(ctxOf(req, deps), req.params.eventId)));

  app.get('/api/v1/customers/:customerId/audit-events', {
    config: { access },
    schema: {
      operationId: 'customerAuditTimeline', tags: TAGS, // the Audit app's, as its grant says, though shown in the Customer app
      summary: "A customer's timeline (Audit app; shown in the Customer app): every event recorded for or about the customer, newest first",
      params: z.strictObject({ customerId: idOf('cus') }),
      querystring: z.strictObject({ ...timelineFilterShape, limit: auditLimit, cursor: auditCursor }).refine(fromBeforeTo, TO_AFTER_FROM),
      response: { 200: page(auditEventSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await customerAuditTimeline(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));

  app.put('/api/v1/operator/partners/:partnerId/audit-retention', {
    config: { access: operatorOnly, audit: 'audit.retention_set' },
    schema: {
      operationId: 'operatorSetAuditRetention', tags: ['Operator'],
      summary: "Set how many years a partner's audit events are kept (default 7)",
      params: z.strictObject({ partnerId: pathId }),
      body: z.strictObject({ retentionYears: z.number().int().min(1).max(100) }),
      response: { 200: z.object({ retentionYears: z.number().int() }), ...problems },
    },
  }, async (req, reply) => reply.send(await setAuditRetention(ctxOf(req, deps), { partnerId: req.params.partnerId, ...req.body })));

  app.post('/api/v1/operator/partners/:partnerId/audit-retention/cut', {
    config: { access: operatorOnly, audit: 'audit.retention_cut' },
    schema: {
      operationId: 'operatorCutAuditRetention', tags: ['Operator'],
      summary: "Remove a partner's events older than its retention, recorded as a cut that verification accepts as the chain's new start",
      params: z.strictObject({ partnerId: pathId }),
      body: z.strictObject({}),
      response: {
        200: z.object({ cut: z.object({ beforeSeq: z.number().int(), anchorHash: z.string(), removedCount: z.number().int() }).nullable() }),
        ...problems,
      },
    },
  }, async (req, reply) => reply.send(await cutAuditRetention(ctxOf(req, deps), { partnerId: req.params.partnerId })));
}
