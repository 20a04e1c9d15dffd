import type { Ctx } from '../platform/context.ts';
import { adjustPoints, type PointsAdjustment, type PointsAdjustmentInput } from './points-adjustment.ts';

/** Finance gives a customer points (Dr `sales_returns`, Cr `points:{c}`), audited as `points.issued` with amount and reason. */
export async function issuePoints(ctx: Ctx, input: PointsAdjustmentInput): Promise<PointsAdjustment> {
  return adjustPoints(ctx, 'issue', input);
}
