// Request and response heads for the cache tests, from plain field tables.
import { RequestHeader, ResponseHeader } from '@sluice/core';

/** A request head with `fields` appended in order (arrays give several lines). */
export function request(method: string, fields: Record<string, string | string[]> = {}, uri = '/'): RequestHeader {
  const req = new RequestHeader(method, uri);
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) req.headers.append(name, v);
  return req;
}

/** A response head with `fields` appended in order (arrays give several lines). */
export function response(status: number, fields: Record<string, string | string[]> = {}): ResponseHeader {
  const resp = new ResponseHeader(status);
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) resp.headers.append(name, v);
  return resp;
}
