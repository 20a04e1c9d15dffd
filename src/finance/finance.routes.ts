import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { problems, isoInstant } from '../platform/schemas.ts';
import { pathId } from '../access/route-schemas.ts';
import { amountString, walletViewSchema } from './finance-views.ts';
import { pointsAdjustmentBody, pointsAdjustmentSchema, takeBackPointsBody } from './points-adjustment.ts';
import { issuePoints } from './issue-points.ts';
import { takeBackPoints } from './take-back-points.ts';
import { setCreditLimit } from './set-credit-limit.ts';

const TAGS = ['Finance'];
const params = z.strictObject({ customerId: pathId });

/** The Finance app: points issued or taken back, credit limits. Staff granted Finance, or API keys limited to it. */
export function financeRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('finance');

  app.post('/api/v1/customers/:customerId/points/issue', {
    config: { access, audit: 'points.issued', idempotent: true },
    schema: {
      operationId: 'issuePoints', tags: TAGS,
      summary: 'Give a customer points (Dr sales returns, Cr points), with a reason kept in the audit trail; honours Idempotency-Key',
      headers: idempotencyKeyHeaders, params, body: pointsAdjustmentBody, response: { 200: pointsAdjustmentSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await issuePoints(ctxOf(req, deps), { customerId: req.params.customerId, ...req.body })));

  app.post('/api/v1/customers/:customerId/points/take-back', {
    config: { access, audit: 'points.taken_back', idempotent: true },
    schema: {
      operationId: 'takeBackPoints', tags: TAGS,
      summary: 'Take points back from a customer: a correction, or refunded by bank transfer or cheque (refundMethod, refundReference); never more than its points not held (422 insufficient_points); honours Idempotency-Key',
      headers: idempotencyKeyHeaders, params, body: takeBackPointsBody, response: { 200: pointsAdjustmentSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await takeBackPoints(ctxOf(req, deps), { customerId: req.params.customerId, ...req.body })));

  app.put('/api/v1/customers/:customerId/credit-limit', {
    config: { access, audit: 'credit_limit.set' },
    schema: {
      operationId: 'setCreditLimit', tags: TAGS,
      summary: "Set a customer's credit limit, permanent or until expiresAt; 0 removes it; never below what is in use (422 credit_limit_in_use)",
      params,
      body: z.strictObject({
        amount: amountString,
        expiresAt: isoInstant.nullable().optional().describe('RFC 3339; null or absent: permanent'),
      }),
      response: { 200: walletViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await setCreditLimit(ctxOf(req, deps), { customerId: req.params.customerId, ...req.body })));
}
