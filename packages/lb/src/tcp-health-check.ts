import { connect, defaultTlsUpgrade, Peer, type PeerOptions, type TlsUpgrade } from '@sluice/core';
import type { Backend } from './backend.js';
import { checkInteger } from './errors.js';
import type { HealthCheck, HealthCheckOptions } from './health.js';

/** Options of {@link TcpHealthCheck}. */
export interface TcpHealthCheckOptions extends HealthCheckOptions {
  /** Bound on the TCP connect (and on the TLS handshake for a TLS check). Default 1000 ms. */
  connectionTimeoutMs?: number;
  /** Do a TLS handshake after connecting. Default false; see {@link TcpHealthCheck.tls}. */
  tls?: boolean;
  /** SNI for the TLS handshake; also the name the certificate is verified against. */
  sni?: string;
  /** The peer's TLS settings (verifyCert, verifyHostname, ca, clientCert, alpn ...). */
  peerOptions?: PeerOptions;
  /** How to do the handshake: core's node:tls default, or `@sluice/tls`'s `TlsConnector#upgrade`. */
  tlsUpgrade?: TlsUpgrade;
}

/**
 * Healthy when a TCP connection (pingora's `TcpHealthCheck`), or a TCP connection plus a complete
 * TLS handshake, succeeds within the timeout. The connection is closed at once.
 */
export class TcpHealthCheck implements HealthCheck {
  readonly consecutiveSuccess: number;
  readonly consecutiveFailure: number;
  readonly onHealthChange: HealthCheckOptions['onHealthChange'];
  readonly #options: PeerOptions;
  readonly #tls: boolean;
  readonly #sni: string;
  readonly #tlsUpgrade: TlsUpgrade;

  /** @throws LbError `ERR_LB_INVALID_OPTION` for a threshold below 1 or a bad timeout. */
  constructor(options: TcpHealthCheckOptions = {}) {
    checkInteger(options.consecutiveSuccess, 'consecutiveSuccess', 1);
    checkInteger(options.consecutiveFailure, 'consecutiveFailure', 1);
    checkInteger(options.connectionTimeoutMs, 'connectionTimeoutMs', 1);
    this.consecutiveSuccess = options.consecutiveSuccess ?? 1;
    this.consecutiveFailure = options.consecutiveFailure ?? 1;
    this.onHealthChange = options.onHealthChange;
    const timeout = options.connectionTimeoutMs ?? 1000;
    this.#options = { ...options.peerOptions, connectionTimeoutMs: timeout, totalConnectionTimeoutMs: timeout * 2 };
    this.#tls = options.tls ?? false;
    this.#sni = options.sni ?? '';
    this.#tlsUpgrade = options.tlsUpgrade ?? defaultTlsUpgrade;
  }

  /** A check that is healthy when a TLS handshake with `sni` completes (pingora's `TcpHealthCheck::new_tls`). */
  static tls(sni: string, options: Omit<TcpHealthCheckOptions, 'tls' | 'sni'> = {}): TcpHealthCheck {
    return new TcpHealthCheck({ ...options, tls: true, sni });
  }

  async check(backend: Backend): Promise<void> {
    const stream = await connect(new Peer(backend.address, this.#tls, this.#sni, this.#options), this.#tlsUpgrade);
    stream.destroy();
  }
}
