import { STATUS_CODES } from 'node:http';
import { SluiceError } from './error.js';
import { isToken } from './field.js';
import { HeaderMap } from './header-map.js';

/** The HTTP version of a message. */
export type HttpVersion = '1.0' | '1.1' | '2';

/** What requests and responses share: a version and a header map, with Pingora's field helpers. */
abstract class HttpHeader {
  version: HttpVersion;
  readonly headers: HeaderMap;

  protected constructor(version: HttpVersion, headers: HeaderMap) {
    this.version = version;
    this.headers = headers;
  }

  /** Replaces every field named `name` with this one (pingora's `insert_header`). */
  insertHeader(name: string, value: string | number): this {
    this.headers.set(name, String(value));
    return this;
  }

  /** Adds a field, keeping existing ones of the same name (pingora's `append_header`). */
  appendHeader(name: string, value: string | number): this {
    this.headers.append(name, String(value));
    return this;
  }

  /** Removes every field named `name`; returns how many there were. */
  removeHeader(name: string): number {
    return this.headers.delete(name);
  }

  /** The first value of field `name`. */
  header(name: string): string | undefined {
    return this.headers.get(name);
  }
}

/** A request's start line and fields (pingora-http `RequestHeader`). */
export class RequestHeader extends HttpHeader {
  method: string;
  /** The request target as sent: origin-form path and query, or absolute-form, authority-form, `*`. */
  uri: string;

  constructor(method: string, uri: string, version: HttpVersion = '1.1', headers: HeaderMap = new HeaderMap()) {
    super(version, headers);
    this.method = method;
    this.uri = uri;
  }

  /**
   * A validated request header.
   * @throws SluiceError `InvalidHTTPHeader` for a method that is not a token or a target with
   *   whitespace or control characters.
   */
  static build(method: string, uri: string, version: HttpVersion = '1.1'): RequestHeader {
    const req = new RequestHeader(method, uri, version);
    req.setMethod(method);
    req.setUri(uri);
    return req;
  }

  /** Sets the method after checking it is a token. */
  setMethod(method: string): this {
    if (!isToken(method)) {
      throw new SluiceError('InvalidHTTPHeader', { code: 'ERR_INVALID_METHOD', context: `method ${JSON.stringify(method)} is not a token` });
    }
    this.method = method;
    return this;
  }

  /** Sets the request target after checking it has no whitespace, controls or non-Latin-1 chars. */
  setUri(uri: string): this {
    if (uri.length === 0 || /[\x00-\x20\x7f-\uffff]/.test(uri)) {
      throw new SluiceError('InvalidHTTPHeader', { code: 'ERR_INVALID_URI', context: `request target ${JSON.stringify(uri)} is empty or has whitespace or control characters` });
    }
    this.uri = uri;
    return this;
  }

  /** The path part of the target (before `?`). */
  get path(): string {
    const q = this.uri.indexOf('?');
    return q === -1 ? this.uri : this.uri.slice(0, q);
  }

  /** The query part of the target, without `?`, or undefined. */
  get query(): string | undefined {
    const q = this.uri.indexOf('?');
    return q === -1 ? undefined : this.uri.slice(q + 1);
  }

  /** A deep copy, safe to rewrite for upstream while the original stays as received. */
  clone(): RequestHeader {
    return new RequestHeader(this.method, this.uri, this.version, this.headers.clone());
  }
}

/** A response's status line and fields (pingora-http `ResponseHeader`). */
export class ResponseHeader extends HttpHeader {
  status: number;
  /** The reason phrase as received, or undefined to use the standard one. */
  reason: string | undefined;

  constructor(status: number, version: HttpVersion = '1.1', headers: HeaderMap = new HeaderMap(), reason?: string) {
    super(version, headers);
    this.status = status;
    this.reason = reason;
  }

  /**
   * A validated response header.
   * @throws SluiceError `InvalidHTTPHeader` for a status outside 100-999.
   */
  static build(status: number, version: HttpVersion = '1.1'): ResponseHeader {
    return new ResponseHeader(100, version).setStatus(status);
  }

  /** Sets the status (100-999, RFC 9110 §15) and clears a received reason phrase. */
  setStatus(status: number): this {
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new SluiceError('InvalidHTTPHeader', { code: 'ERR_INVALID_STATUS', context: `status ${status} is not a three-digit code` });
    }
    this.status = status;
    this.reason = undefined;
    return this;
  }

  /** The reason phrase to send: the received one, the standard one, or empty. */
  get reasonPhrase(): string {
    return this.reason ?? STATUS_CODES[this.status] ?? '';
  }

  /** A deep copy. */
  clone(): ResponseHeader {
    return new ResponseHeader(this.status, this.version, this.headers.clone(), this.reason);
  }
}
