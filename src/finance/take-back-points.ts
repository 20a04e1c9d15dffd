import type { Ctx } from '../platform/context.ts';
import { adjustPoints, type PointsAdjustment, type PointsAdjustmentInput } from './points-adjustment.ts';

/**
 * Finance takes points back (Dr `points:{c}`, Cr `sales_returns`), audited as `points.taken_back`. Only points that are
 * neither held nor borrowed on the credit limit can be taken: otherwise 422 `insufficient_points`, and nothing changes.
 */
export async function takeBackPoints(ctx: Ctx, input: PointsAdjustmentInput): Promise<PointsAdjustment> {
  return adjustPoints(ctx, 'take_back', input);
}
