// RFC 9113 §8.2 and §8.3: what a field section may hold. Checked in one pass over the flat
// [name, value, …] list the HPACK decoder produced.
import { ErrorCode, Http2Error } from './error.js';

/** The parts of a request's control data (RFC 9113 §8.3.1), as found by {@link checkRequestFields}. */
export interface RequestControl {
  method: string;
  scheme: string | undefined;
  authority: string | undefined;
  path: string | undefined;
  protocol: string | undefined;
  /** The content-length value, or -1 when absent. */
  contentLength: number;
}

/** The request pseudo-headers (RFC 9113 §8.3.1, RFC 8441 §4), in the order of {@link checkRequestFields}' scratch. */
const REQUEST_PSEUDO = [':method', ':scheme', ':authority', ':path', ':protocol'];
const PSEUDO_VALUES: Array<string | undefined> = [undefined, undefined, undefined, undefined, undefined];

/** The field names that are connection-specific in HTTP/1.1 and malformed in HTTP/2 (§8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

// A field name is lowercase tchar (RFC 9110 §5.6.2, RFC 9113 §8.2.1); the pseudo-header colon is
// checked apart. 1 = allowed.
const NAME_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

function malformed(streamId: number, message: string): Http2Error {
  return new Http2Error('ERR_H2_MALFORMED_MESSAGE', ErrorCode.PROTOCOL_ERROR, `stream ${streamId}: ${message} (RFC 9113 §8.1.1)`, streamId);
}

function checkName(streamId: number, name: string, from: number): void {
  if (name.length === from) throw malformed(streamId, 'empty field name');
  for (let i = from; i < name.length; i++) {
    if (NAME_CHAR[name.charCodeAt(i)] !== 1) {
      throw malformed(streamId, `field name ${JSON.stringify(name)} has ${/[A-Z]/.test(name) ? 'uppercase' : 'invalid'} characters`);
    }
  }
}

// §8.2.1: no NUL, CR or LF, and no leading or trailing whitespace.
function checkValue(streamId: number, name: string, value: string): void {
  const n = value.length;
  if (n === 0) return;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) throw malformed(streamId, `value of ${name} has leading or trailing whitespace`);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformed(streamId, `value of ${name} has NUL, CR or LF`);
  }
}

/** Checks a regular (non-pseudo) field; returns the content-length it carries, -1 if none. */
function checkRegular(streamId: number, name: string, value: string, contentLength: number): number {
  checkName(streamId, name, 0);
  checkValue(streamId, name, value);
  if (CONNECTION_SPECIFIC.has(name)) throw malformed(streamId, `connection-specific field ${name}`);
  if (name === 'te' && value !== 'trailers') throw malformed(streamId, `te: ${value}; only "trailers" is allowed`);
  if (name === 'content-length') {
    if (!/^[0-9]{1,15}$/.test(value)) throw malformed(streamId, `content-length ${JSON.stringify(value)} is not a number`);
    const length = Number(value);
    if (contentLength !== -1 && contentLength !== length) throw malformed(streamId, 'content-length values differ');
    return length;
  }
  return contentLength;
}

/**
 * Checks a request's field section: pseudo-headers first, known, once each, the required ones
 * present (§8.3.1; CONNECT by §8.5 and RFC 8441), names lowercase, no connection-specific fields.
 * @throws Http2Error a stream error PROTOCOL_ERROR saying what was wrong.
 */
export function checkRequestFields(streamId: number, fields: string[], out: RequestControl): RequestControl {
  // Values by position in REQUEST_PSEUDO; a scratch array is safe: the check runs synchronously.
  const pseudo = PSEUDO_VALUES;
  pseudo.fill(undefined);
  let contentLength = -1;
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) throw malformed(streamId, `pseudo-header ${name} after a regular field`);
      const at = REQUEST_PSEUDO.indexOf(name);
      if (at === -1) throw malformed(streamId, `pseudo-header ${name} is not a request pseudo-header`);
      if (pseudo[at] !== undefined) throw malformed(streamId, `duplicate ${name}`);
      checkValue(streamId, name, value);
      pseudo[at] = value;
    } else {
      regular = true;
      contentLength = checkRegular(streamId, name, value, contentLength);
    }
  }
  const [method, scheme, authority, path, protocol] = pseudo;
  if (method === undefined || method === '') throw malformed(streamId, 'missing :method');
  if (method === 'CONNECT' && protocol === undefined) {
    if (authority === undefined || scheme !== undefined || path !== undefined) throw malformed(streamId, 'CONNECT needs :authority and no :scheme or :path');
  } else {
    if (scheme === undefined || scheme === '') throw malformed(streamId, 'missing :scheme');
    if (path === undefined) throw malformed(streamId, 'missing :path');
    if (path === '') throw malformed(streamId, 'empty :path');
  }
  out.method = method;
  out.scheme = scheme;
  out.authority = authority;
  out.path = path;
  out.protocol = protocol;
  out.contentLength = contentLength;
  return out;
}

/**
 * Checks a response's field section: `:status` alone among pseudo-headers, three digits.
 * Returns the status and stores the content-length (-1 if none) in `lengthOut[0]`.
 * @throws Http2Error a stream error PROTOCOL_ERROR.
 */
export function checkResponseFields(streamId: number, fields: string[], lengthOut: number[]): number {
  let status = -1;
  let contentLength = -1;
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) throw malformed(streamId, `pseudo-header ${name} after a regular field`);
      if (name !== ':status') throw malformed(streamId, `pseudo-header ${name} is not a response pseudo-header`);
      if (status !== -1) throw malformed(streamId, 'duplicate :status');
      if (!/^[1-9][0-9][0-9]$/.test(value)) throw malformed(streamId, `:status ${JSON.stringify(value)} is not three digits`);
      status = Number(value);
    } else {
      regular = true;
      contentLength = checkRegular(streamId, name, value, contentLength);
    }
  }
  if (status === -1) throw malformed(streamId, 'missing :status');
  lengthOut[0] = contentLength;
  return status;
}

/**
 * Checks a trailer section: no pseudo-headers (§8.1), lowercase names, no connection-specific fields.
 * @throws Http2Error a stream error PROTOCOL_ERROR.
 */
export function checkTrailerFields(streamId: number, fields: string[]): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (name.charCodeAt(0) === 0x3a) throw malformed(streamId, `pseudo-header ${name} in trailers`);
    checkRegular(streamId, name, fields[i + 1], -1);
  }
}

/** The part of core's HeaderMap that {@link appendOutgoingFields} reads. */
export interface FieldList {
  readonly size: number;
  keyAt(index: number): string;
  valueAt(index: number): string;
}

/**
 * Appends a header map's fields to `out` for sending: names lowercased (§8.2.1), connection-specific
 * fields and `host` dropped (§8.2.2, §8.3.1: an HTTP/1.1 message converts cleanly), `te` kept only
 * as "trailers".
 * @throws Http2Error a stream error (INTERNAL_ERROR) for a name or value that cannot be sent.
 */
export function appendOutgoingFields(streamId: number, fields: FieldList, out: string[]): string[] {
  for (let f = 0; f < fields.size; f++) {
    const name = fields.keyAt(f);
    const value = fields.valueAt(f);
    if (CONNECTION_SPECIFIC.has(name) || name === 'host') continue;
    if (name === 'te') {
      if (value.trim().toLowerCase() === 'trailers') out.push('te', 'trailers');
      continue;
    }
    try {
      checkName(streamId, name, 0);
      checkValue(streamId, name, value);
    } catch (error) {
      throw new Http2Error('ERR_H2_INVALID_OUTGOING_FIELD', ErrorCode.INTERNAL_ERROR, (error as Error).message, streamId);
    }
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0xff) throw new Http2Error('ERR_H2_INVALID_OUTGOING_FIELD', ErrorCode.INTERNAL_ERROR, `stream ${streamId}: value of ${name} has a character above 0xff`, streamId);
    }
    out.push(name, value);
  }
  return out;
}
