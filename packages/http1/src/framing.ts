import type { RequestHeader, ResponseHeader } from '@sluice/core';
import type { BodyFraming } from './parser.js';

/** Whether a response to `method` with `status` can have a body at all (RFC 9110 §6.4.1). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304 && !(method === 'CONNECT' && status < 300);
}

/**
 * How to frame a response we send (RFC 9112 §6.3): no body for HEAD, 1xx, 204, 304 and a CONNECT
 * tunnel's 2xx; Content-Length when the response has one; chunked when it says so or when the
 * client speaks HTTP/1.1 and no length is known; otherwise the body ends when the connection closes.
 * Adds `Transfer-Encoding: chunked` when it chooses chunked.
 */
export function frameResponse(method: string, requestVersion: string, res: ResponseHeader): BodyFraming {
  if (!responseHasBody(method, res.status)) return 'none';
  return frameOutgoing(res, requestVersion === '1.1');
}

/**
 * How to frame a request we send: Content-Length or chunked as its fields say; a method that usually
 * has a body (anything but GET, HEAD, DELETE, OPTIONS, CONNECT, TRACE) is sent chunked when no length is
 * known; the others without a body.
 */
export function frameRequest(req: RequestHeader, hasBody: boolean): BodyFraming {
  const framing = frameOutgoing(req, hasBody);
  return framing === 'close' ? 'none' : framing;
}

function frameOutgoing(head: RequestHeader | ResponseHeader, chunkedAllowed: boolean): BodyFraming {
  const te = head.headers.get('transfer-encoding');
  if (te !== undefined) {
    if (/(?:^|,)\s*chunked\s*$/i.test(te)) return 'chunked';
    return 'close';
  }
  const cl = head.headers.get('content-length');
  if (cl !== undefined) return Number(cl) > 0 ? 'length' : 'none';
  if (!chunkedAllowed) return 'close';
  head.headers.appendUnchecked('Transfer-Encoding', 'chunked');
  return 'chunked';
}

/** Methods whose requests carry no body unless they say so. */
export function methodExpectsBody(method: string): boolean {
  return !(method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS' || method === 'CONNECT' || method === 'TRACE');
}
