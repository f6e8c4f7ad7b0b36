import { connect, defaultTlsUpgrade, HttpPeer, RequestHeader, type PeerAddress, type PeerOptions, type ResponseHeader, type TlsUpgrade } from '@sluice/core';
import { ClientSession } from '@sluice/http1';
import type { Backend } from './backend.js';
import { LbError, checkInteger } from './errors.js';
import type { HealthCheck, HealthCheckOptions } from './health.js';

/** Decides from a response whether the backend is healthy: throw (or return false) when it is not. */
export type ResponseValidator = (response: ResponseHeader, body: Buffer) => boolean | void;

/** Options of {@link HttpHealthCheck}. */
export interface HttpHealthCheckOptions extends HealthCheckOptions {
  /** The `Host` field, and the SNI for TLS. Required. */
  host: string;
  /** Request target. Default `/`. */
  path?: string;
  /** Speak HTTPS. Default false. */
  tls?: boolean;
  /** Connect to this port instead of the backend's (a separate health port). */
  portOverride?: number;
  /** Bound on the TCP connect, and again on the TLS handshake. Default 1000 ms. */
  connectionTimeoutMs?: number;
  /** Bound on waiting for the response head and for each piece of its body. Default 1000 ms. */
  readTimeoutMs?: number;
  /** Largest body read; a longer one fails the check. Default 65536 bytes. */
  maxBodyBytes?: number;
  /** Default: healthy only on status 200 (as pingora). */
  validator?: ResponseValidator;
  /** TLS settings of the peer (verifyCert, ca ...). */
  peerOptions?: PeerOptions;
  tlsUpgrade?: TlsUpgrade;
}

/**
 * Healthy when `GET <path>` with `Host: <host>` gets a response the validator accepts, within the
 * timeouts (pingora's `HttpHealthCheck`), over @sluice/http1's client session. Each check uses a
 * new connection and closes it.
 */
export class HttpHealthCheck implements HealthCheck {
  readonly consecutiveSuccess: number;
  readonly consecutiveFailure: number;
  readonly onHealthChange: HealthCheckOptions['onHealthChange'];
  /** The request sent; add fields to it before the first check if the backend needs them. */
  readonly request: RequestHeader;
  readonly #tls: boolean;
  readonly #sni: string;
  readonly #portOverride: number | undefined;
  readonly #readTimeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #validator: ResponseValidator | undefined;
  readonly #peerOptions: PeerOptions;
  readonly #tlsUpgrade: TlsUpgrade;

  /** @throws LbError `ERR_LB_INVALID_OPTION` for bad thresholds, timeouts, port or host; SluiceError `InvalidHTTPHeader` for a bad path. */
  constructor(options: HttpHealthCheckOptions) {
    if (typeof options?.host !== 'string' || options.host.length === 0 || /[\s\x00-\x1f\x7f]/.test(options.host)) {
      throw new LbError('ConfigError', 'ERR_LB_INVALID_OPTION', `host must be a non-empty host name without whitespace, got ${JSON.stringify(options?.host)}`);
    }
    checkInteger(options.consecutiveSuccess, 'consecutiveSuccess', 1);
    checkInteger(options.consecutiveFailure, 'consecutiveFailure', 1);
    checkInteger(options.connectionTimeoutMs, 'connectionTimeoutMs', 1);
    checkInteger(options.readTimeoutMs, 'readTimeoutMs', 1);
    checkInteger(options.maxBodyBytes, 'maxBodyBytes', 0);
    checkInteger(options.portOverride, 'portOverride', 1, 65535);
    this.consecutiveSuccess = options.consecutiveSuccess ?? 1;
    this.consecutiveFailure = options.consecutiveFailure ?? 1;
    this.onHealthChange = options.onHealthChange;
    this.request = RequestHeader.build('GET', options.path ?? '/').insertHeader('Host', options.host);
    this.#tls = options.tls ?? false;
    this.#sni = options.host;
    this.#portOverride = options.portOverride;
    this.#readTimeoutMs = options.readTimeoutMs ?? 1000;
    this.#maxBodyBytes = options.maxBodyBytes ?? 65_536;
    this.#validator = options.validator;
    const connectMs = options.connectionTimeoutMs ?? 1000;
    this.#peerOptions = { ...options.peerOptions, connectionTimeoutMs: connectMs, totalConnectionTimeoutMs: connectMs * 2, writeTimeoutMs: this.#readTimeoutMs };
    this.#tlsUpgrade = options.tlsUpgrade ?? defaultTlsUpgrade;
  }

  async check(backend: Backend): Promise<void> {
    let address: PeerAddress = backend.address;
    if (this.#portOverride !== undefined && 'host' in address) address = { host: address.host, port: this.#portOverride };
    const stream = await connect(new HttpPeer(address, this.#tls, this.#sni, this.#peerOptions), this.#tlsUpgrade);
    const session = new ClientSession(stream, { readTimeoutMs: this.#readTimeoutMs, bodyTimeoutMs: this.#readTimeoutMs });
    try {
      await session.writeRequestHeader(this.request.clone(), false);
      const response = await session.readResponse();
      const parts: Buffer[] = [];
      let size = 0;
      for (let chunk = await session.readBodyChunk(); chunk !== null; chunk = await session.readBodyChunk()) {
        size += chunk.length;
        if (size > this.#maxBodyBytes) {
          throw new LbError('HTTPStatus', 'ERR_LB_UNHEALTHY_RESPONSE', `${backend.addr}: health check body exceeds maxBodyBytes (${this.#maxBodyBytes})`, { status: response.status });
        }
        parts.push(chunk);
      }
      const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      const validator = this.#validator;
      if (validator === undefined) {
        if (response.status !== 200) {
          throw new LbError('HTTPStatus', 'ERR_LB_UNHEALTHY_STATUS', `${backend.addr} answered ${response.status} to GET ${this.request.uri} (want 200)`, { status: response.status });
        }
      } else if (validator(response, body) === false) {
        throw new LbError('HTTPStatus', 'ERR_LB_UNHEALTHY_RESPONSE', `${backend.addr}: the validator rejected the ${response.status} response to GET ${this.request.uri}`, { status: response.status });
      }
    } finally {
      session.close();
    }
  }
}
