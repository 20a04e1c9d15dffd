/**
 * The ETag of a resource with a version column bumped by every change to it (subscriptions, migration 0068; virtual
 * lines and wallboards): strong and quoted, like a view's (etag.ts). Without dependencies, so the web app sends the
 * If-Match of a subscription it read in a list (whose items carry `version`) as the server writes the ETag, by construction.
 */
export function versionEtag(version: number): string {
  return `"v${version}"`;
}
