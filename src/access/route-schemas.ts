import { z } from 'zod';

/**
 * A path id: any type-prefixed opaque id (`usr_...`, `ivt_...`). A malformed one is a 400 naming the parameter; a well-formed
 * id of the wrong type, unknown, or another partner's is a 404 from the use case, never telling which.
 */
export const pathId = z.string().regex(/^[a-z]{2,4}_[0-9a-z]{10,40}$/, 'an id: a prefix of 2-4 letters, _, then 10-40 lowercase letters or digits');

export const personName = z.string().trim().min(1).max(200);
