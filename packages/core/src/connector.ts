import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, checkServerIdentity, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { SluiceError, errorTypeOfSystemError } from './error.js';
import { digestOf } from './digest.js';
import { ConnectionPool, type ConnectionPoolOptions } from './pool.js';
import type { Peer } from './peer.js';
import { Stream } from './stream.js';

/**
 * Upgrades a connected TCP socket to TLS for `peer`. The default uses node:tls with the peer's
 * options; @sluice/tls supplies one with session reuse and key logging.
 */
export type TlsUpgrade = (socket: Socket, peer: Peer) => Promise<TLSSocket>;

/** ALPN protocol ids offered for each policy. */
const ALPN_IDS = { h1: ['http/1.1'], h2: ['h2'], h2h1: ['h2', 'http/1.1'] } as const;

/** node:tls options for `peer`, verification on by default. */
export function tlsOptionsFor(peer: Peer, socket: Socket): ConnectionOptions {
  const o = peer.options;
  const opts: ConnectionOptions = {
    socket,
    servername: peer.sni || undefined,
    rejectUnauthorized: o.verifyCert !== false,
    ca: o.ca,
    cert: o.clientCert?.cert,
    key: o.clientCert?.key,
    ALPNProtocols: o.alpn ? [...ALPN_IDS[o.alpn]] : undefined,
  };
  if (o.verifyHostname === false) opts.checkServerIdentity = () => undefined;
  else if (o.alternativeCn) {
    const alt = o.alternativeCn;
    opts.checkServerIdentity = (host, cert) => (checkServerIdentity(host, cert) === undefined ? undefined : checkServerIdentity(alt, cert));
  }
  return opts;
}

/** The default {@link TlsUpgrade}: node:tls with the peer's verification, SNI, ALPN and client certificate. */
export const defaultTlsUpgrade: TlsUpgrade = (socket, peer) =>
  new Promise((resolve, reject) => {
    const tls = tlsConnect(tlsOptionsFor(peer, socket));
    const onError = (e: Error) => reject(e);
    tls.once('error', onError);
    tls.once('secureConnect', () => {
      tls.off('error', onError);
      resolve(tls);
    });
  });

function connectError(e: unknown, peer: Peer, phase: 'tcp' | 'tls'): SluiceError {
  if (e instanceof SluiceError) return e;
  const type = phase === 'tls' ? 'TLSHandshakeFailure' : errorTypeOfSystemError(e, 'ConnectError');
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return SluiceError.because(type, `${phase === 'tls' ? 'TLS handshake with' : 'connecting to'} ${peer}${code ? ` (${code})` : ''}`, e).intoUp();
}

/**
 * Bounds on opening a connection, for peers whose {@link PeerOptions} set none. `Infinity` means no
 * bound (the operating system's own, about two minutes of SYN retries on Linux).
 */
export interface ConnectTimeouts {
  /** The TCP connect (default {@link DEFAULT_CONNECTION_TIMEOUT_MS}). */
  connectionTimeoutMs: number;
  /**
   * The whole connect, TLS handshake included (default {@link DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS});
   * for a peer that sets its own, longer connect bound, that bound.
   */
  totalConnectionTimeoutMs: number;
}

/**
 * Default TCP connect bound: 10 s. Pingora's peers have none and nginx's `proxy_connect_timeout` is
 * 60 s, but a TCP handshake that has not completed after three SYN retransmissions (1 + 2 + 4 s on
 * Linux) is almost never going to; 10 s fails a blackholed upstream fast enough to fail over, while
 * a slow but live one still gets its retransmits.
 */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** Default bound on the whole connect, TLS handshake included: 30 s (the TCP bound plus room for a slow handshake). */
export const DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS = 30_000;

const DEFAULT_CONNECT_TIMEOUTS: ConnectTimeouts = { connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS, totalConnectionTimeoutMs: DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS };

/** Longest delay a Node timer takes; longer (or infinite) bounds arm no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens a new connection to `peer`: TCP bounded by `connectionTimeoutMs`, then TLS for TLS peers, the
 * whole bounded by `totalConnectionTimeoutMs`; `defaults` bound what the peer's options leave unset.
 * `signal` abandons the attempt: the socket is destroyed at once, in either phase, and the attempt
 * rejects as that phase's failure (cause `ABORT_ERR`). It is listened to only until the connect
 * settles: an abort after that leaves the connection alone.
 * @throws SluiceError `ConnectTimedout`, `ConnectRefused`, `ConnectNoRoute`, `ConnectError`,
 *   `TLSHandshakeTimedout`, `TLSHandshakeFailure` (source Upstream).
 */
export async function connect(peer: Peer, tlsUpgrade: TlsUpgrade = defaultTlsUpgrade, defaults: ConnectTimeouts = DEFAULT_CONNECT_TIMEOUTS, signal?: AbortSignal): Promise<Stream> {
  const o = peer.options;
  const connectMs = o.connectionTimeoutMs ?? defaults.connectionTimeoutMs;
  // A default total never cuts short a longer connect bound the peer set itself.
  const totalMs = o.totalConnectionTimeoutMs ?? (o.connectionTimeoutMs === undefined ? defaults.totalConnectionTimeoutMs : Math.max(defaults.totalConnectionTimeoutMs, o.connectionTimeoutMs));
  const started = performance.now();
  const a = peer.address;
  const socket = 'path' in a ? netConnect({ path: a.path }) : netConnect({ host: a.host, port: a.port, localAddress: o.bindTo, noDelay: o.noDelay !== false });
  // Not net.connect's own `signal`: it stays on the socket for its life, and an abort after the connect
  // would destroy a live (possibly pooled) connection. Ours is removed once the connect settles.
  let onAbort: (() => void) | undefined;
  if (signal !== undefined) {
    onAbort = () => socket.destroy(abortError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  let timer: NodeJS.Timeout | undefined;
  let phase: 'tcp' | 'tls' = 'tcp';
  const deadline = (ms: number, what: string) =>
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SluiceError(phase === 'tls' ? 'TLSHandshakeTimedout' : 'ConnectTimedout', { context: `${what} to ${peer} exceeded ${ms} ms`, source: 'Upstream' })), ms);
      timer.unref();
    });
  try {
    const tcp = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const tcpLimit = Math.min(connectMs, totalMs);
    await (tcpLimit > MAX_TIMER_MS ? tcp : Promise.race([tcp, deadline(tcpLimit, connectMs <= totalMs ? 'connect' : 'total connect')]));
    clearTimeout(timer);
    socket.removeAllListeners('error');
    if (o.tcpKeepalive) socket.setKeepAlive(true, o.tcpKeepalive.idleMs);
    let connected: Socket = socket;
    let tlsStarted: number | undefined;
    if (peer.tls) {
      phase = 'tls';
      tlsStarted = performance.now();
      const handshake = tlsUpgrade(socket, peer);
      const left = totalMs - (performance.now() - started);
      connected = await (left > MAX_TIMER_MS ? handshake : Promise.race([handshake, deadline(Math.max(0, left), 'total connect')]));
      clearTimeout(timer);
    }
    const unixPath = 'path' in a ? a.path : undefined;
    const now = performance.now();
    return new Stream(connected, digestOf(connected, Date.now(), now - started, unixPath, tlsStarted === undefined ? undefined : now - tlsStarted), { readTimeoutMs: o.readTimeoutMs, writeTimeoutMs: o.writeTimeoutMs });
  } catch (e) {
    clearTimeout(timer);
    socket.destroy();
    throw connectError(e, peer, phase);
  } finally {
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
  }
}

/** The error an aborted connect destroys its socket with (Node's `AbortError` shape: code `ABORT_ERR`). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('the connect was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** Options for {@link TransportConnector}. */
export interface TransportConnectorOptions extends ConnectionPoolOptions, Partial<ConnectTimeouts> {
  tlsUpgrade?: TlsUpgrade;
}

/**
 * Connects to peers and keeps their idle connections for reuse (pingora's `TransportConnector`):
 * {@link TransportConnector.getStream} reuses a pooled connection when there is one.
 */
export class TransportConnector {
  readonly pool: ConnectionPool;
  private readonly tlsUpgrade: TlsUpgrade;

  /** Connect bounds for peers whose options set none. */
  readonly connectTimeouts: ConnectTimeouts;

  /** @throws SluiceError `ConfigError` (code `ERR_CONNECTOR_INVALID_TIMEOUT`) for a bound that is not a number > 0. */
  constructor(options: TransportConnectorOptions = {}) {
    this.pool = new ConnectionPool(options);
    this.tlsUpgrade = options.tlsUpgrade ?? defaultTlsUpgrade;
    this.connectTimeouts = {
      connectionTimeoutMs: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      totalConnectionTimeoutMs: options.totalConnectionTimeoutMs ?? DEFAULT_TOTAL_CONNECTION_TIMEOUT_MS,
    };
    for (const [name, ms] of Object.entries(this.connectTimeouts)) {
      if (!(ms > 0)) throw new SluiceError('ConfigError', { code: 'ERR_CONNECTOR_INVALID_TIMEOUT', context: `${name} must be a number of milliseconds > 0 (Infinity for no bound), got ${ms}` });
    }
  }

  /** A fresh connection, never pooled. */
  newStream(peer: Peer, signal?: AbortSignal): Promise<Stream> {
    return connect(peer, this.tlsUpgrade, this.connectTimeouts, signal);
  }

  /** An idle pooled connection to `peer`, or undefined. Its timeouts are set from the peer's options. */
  reusedStream(peer: Peer): Stream | undefined {
    const stream = this.pool.get(peer.reuseHash());
    if (stream) {
      stream.readTimeoutMs = peer.options.readTimeoutMs;
      stream.writeTimeoutMs = peer.options.writeTimeoutMs;
    }
    return stream;
  }

  /** A pooled connection when there is one, else a new one; `reused` says which. */
  async getStream(peer: Peer): Promise<{ stream: Stream; reused: boolean }> {
    const pooled = this.reusedStream(peer);
    if (pooled) return { stream: pooled, reused: true };
    return { stream: await this.newStream(peer), reused: false };
  }

  /** Returns a connection that finished its exchange cleanly, for reuse. */
  releaseStream(stream: Stream, peer: Peer, idleTimeoutMs = peer.options.idleTimeoutMs): void {
    this.pool.put(peer.reuseHash(), stream, idleTimeoutMs);
  }
}
