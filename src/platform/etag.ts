import { sha256Hex } from './crypto.ts';
import { DomainError } from './errors.ts';

/**
 * The ETag of a resource read as a whole view (api-conventions: editable resources return an ETag; an update with a
 * stale If-Match is a 412). For resources without a version column (products, discounts) it is a digest of the view
 * the GET answers: any change a reader could see changes it. Strong, quoted.
 */
export function viewEtag(view: unknown): string {
  return `"${sha256Hex(JSON.stringify(view)).slice(0, 32)}"`;
}

/**
 * The ETag of a resource with a version column (subscriptions, virtual lines, wallboards): use it where the GET view is
 * larger than what an update answers. In its own module, which the web app imports too.
 */
export { versionEtag } from './version-etag.ts';

/** `If-Match` holds `etag` (or `*`); a list of ETags matches when one does. Strong comparison (RFC 9110): a weak `W/` tag never matches. */
export function ifMatchMatches(ifMatch: string, etag: string): boolean {
  return ifMatch.split(',').map((t) => t.trim()).some((t) => t === '*' || t === etag);
}

/** Refuse an update whose If-Match names another version of the resource (412 precondition_failed; nothing written). */
export function assertIfMatch(ifMatch: string | undefined, currentEtag: () => string, what: string): void {
  if (ifMatch === undefined) return;
  if (!ifMatchMatches(ifMatch, currentEtag())) {
    throw new DomainError('precondition_failed', `The ${what} changed since you read it: read it again, then make your change`, [
      { path: 'If-Match', message: 'does not match the current version' },
    ]);
  }
}
