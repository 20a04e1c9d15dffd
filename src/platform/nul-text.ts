/**
 * PostgreSQL cannot store the NUL character (U+0000) in text: a statement carrying one fails with "invalid byte
 * sequence", which would reach the caller as a 500 after part of the work was tried. JSON and URLs can carry it
 * (`\u0000`, `%00`), so every request is checked at the edge: the first string holding one is named in a 400.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route checks its own body's strings for NUL characters (a batch that rejects record by record, e.g. the
     * calls batch); its query and path parameters are still checked by the server.
     */
    bodyTextChecked?: boolean;
  }
}

/** Containers nested deeper than this are not walked (request bodies are far shallower; schemas bound them anyway). */
const MAX_DEPTH = 32;

/** The path (`lines.2.description`; `''` for the value itself) of the first string or key holding a NUL, or null. */
export function findNulText(value: unknown, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? '' : null;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || ArrayBuffer.isView(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = findNulText(value[i], depth + 1);
      if (inner !== null) return inner === '' ? String(i) : `${i}.${inner}`;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\0')) return key;
    const found = findNulText(inner, depth + 1);
    if (found !== null) return found === '' ? key : `${key}.${found}`;
  }
  return null;
}

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** For a schema that checks its own strings (`z.string().regex(NO_NUL, NUL_MESSAGE)`), in a `bodyTextChecked` route. */
export const NO_NUL = /^[^\0]*$/;
