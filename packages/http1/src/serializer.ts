import type { HeaderMap, RequestHeader, ResponseHeader } from '@sluice/core';

/** `HTTP/1.1` or `HTTP/1.0`; an HTTP/2 header is sent as HTTP/1.1 on an HTTP/1 connection. */
function versionText(version: string): string {
  return version === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
}

/** The field lines of `headers`, each `Name: value\r\n`, names as they were received or set. */
export function serializeFields(headers: HeaderMap): string {
  let out = '';
  for (let i = 0; i < headers.size; i++) out += headers.nameAt(i) + ': ' + headers.valueAt(i) + '\r\n';
  return out;
}

/**
 * A request head ready for one write: request line, fields in order and case, empty line (RFC 9112
 * §3, §5). Latin-1 text: encode it with `Buffer.from(text, 'latin1')`.
 */
export function serializeRequestHead(req: RequestHeader): string {
  return req.method + ' ' + req.uri + ' ' + versionText(req.version) + '\r\n' + serializeFields(req.headers) + '\r\n';
}

/**
 * A response head ready for one write: status line, fields in order and case, then `extraFields`
 * (field lines a session adds without changing `res`, each ending in CRLF), empty line (RFC 9112 §4).
 */
export function serializeResponseHead(res: ResponseHeader, extraFields = ''): string {
  return versionText(res.version) + ' ' + res.status + ' ' + res.reasonPhrase + '\r\n' + serializeFields(res.headers) + extraFields + '\r\n';
}

let dateText: string | null = null;
let dateLineText = '';

function forgetDate(): void {
  dateText = null;
}

/**
 * The current time as an HTTP-date (IMF-fixdate, RFC 9110 §5.6.7), formatted at most once a second
 * (the field's resolution): a timer forgets it when the second ends, so a response reads no clock.
 */
export function httpDateNow(): string {
  if (dateText === null) {
    const now = new Date();
    dateText = now.toUTCString();
    dateLineText = 'Date: ' + dateText + '\r\n';
    setTimeout(forgetDate, 1000 - now.getMilliseconds()).unref();
  }
  return dateText;
}

/** `Date: <now>` and CRLF, for a head's extra fields: built with {@link httpDateNow}'s text, as often. */
export function httpDateFieldLine(): string {
  if (dateText === null) httpDateNow();
  return dateLineText;
}

/** One head as bytes (Latin-1, so obs-text in values survives byte for byte). */
export function headBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
