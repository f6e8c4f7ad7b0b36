// RFC 9111 §4.1: a stored response with Vary answers only requests whose nominated fields match
// those of the request that produced it. The nominated values form the secondary cache key.
import type { RequestHeader, ResponseHeader } from '@sluice/core';

// Fields whose values are case-insensitive by definition (RFC 9110 §12.5), normalised to lower case.
const CASE_INSENSITIVE: ReadonlySet<string> = new Set(['accept', 'accept-encoding', 'accept-charset', 'accept-language']);
// A field absent from the request matches only a request where it is also absent (§4.1), so absence
// gets a marker that no field value can contain (values never hold NUL, RFC 9110 §5.5).
const ABSENT = '\u0000';

/**
 * The lower-case field names a response varies on, sorted and without duplicates; '*' for Vary: *
 * (never matches, §4.1); an empty array without Vary.
 */
export function varyFields(resp: ResponseHeader): string[] | '*' {
  const lines = resp.headers.getAll('vary');
  if (lines.length === 0) return [];
  const names: string[] = [];
  for (const line of lines) {
    for (const part of line.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '*') return '*';
      if (name.length > 0 && !names.includes(name)) names.push(name);
    }
  }
  return names.sort();
}

/**
 * A field's value normalised for comparison (RFC 9111 §4.1): lines joined by ", ", whitespace around
 * commas and at the ends removed, runs of spaces collapsed, lower case where the field is
 * case-insensitive.
 */
export function normalizedFieldValue(req: RequestHeader, name: string): string | undefined {
  const lines = req.headers.getAll(name);
  if (lines.length === 0) return undefined;
  let value = (lines.length === 1 ? lines[0] : lines.join(',')).replace(/[ \t]*,[ \t]*/g, ', ').replace(/[ \t]+/g, ' ').trim();
  if (CASE_INSENSITIVE.has(name)) value = value.toLowerCase();
  return value;
}

/**
 * The secondary key (Pingora's variance) of `req` for a response varying on `fields` (from
 * `varyFields`): each name with its normalised value, absent fields distinguished from empty ones;
 * undefined when the response does not vary.
 */
export function varianceKey(fields: readonly string[], req: RequestHeader): string | undefined {
  if (fields.length === 0) return undefined;
  let key = '';
  for (let i = 0; i < fields.length; i++) {
    const value = normalizedFieldValue(req, fields[i]);
    key += fields[i] + ':' + (value === undefined ? ABSENT : value) + '\n';
  }
  return key;
}
