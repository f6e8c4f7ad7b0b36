import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect, createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type SecureContextOptions, type SecureVersion, type TLSSocket } from 'node:tls';
import { TlsConfigError, tlsErrorOf } from './errors.js';
import { KeyLogWriter } from './key-log.js';

/** Which HTTP versions to offer upstream by ALPN: h1 only, h2 only, or h2 with h1 fallback. */
export type AlpnPolicy = 'h1' | 'h2' | 'h2h1';

/** The TLS part of a peer's options (the same fields as core's `PeerOptions`). */
export interface TlsPeerOptions {
  /** Verify the peer's certificate chain (default true). */
  verifyCert?: boolean;
  /** Verify that the certificate names the peer: its SNI, else its host (default true). */
  verifyHostname?: boolean;
  /** Another name the certificate may carry instead (Pingora's `alternative_cn`). */
  alternativeCn?: string;
  /** Trusted CA certificates (PEM) instead of the connector's default or the system's. */
  ca?: SecureContextOptions['ca'];
  /** Client certificate chain and key (PEM) for mTLS peers. */
  clientCert?: { cert: SecureContextOptions['cert']; key: SecureContextOptions['key'] };
  alpn?: AlpnPolicy;
}

/** What {@link TlsConnector.upgrade} needs of a peer; core's `Peer` fits it. */
export interface TlsPeerLike {
  readonly sni: string;
  readonly address: { host: string; port: number } | { path: string };
  readonly options: TlsPeerOptions;
}

/** Options of {@link TlsConnector}. */
export interface TlsConnectorOptions {
  /** How many peers' sessions are kept for resumption (default 1000; 0 turns resumption off). */
  sessionCacheSize?: number;
  /** Append TLS secrets of every connection to this file in SSLKEYLOGFILE format (debugging only). */
  keyLog?: string;
  /** CA certificates trusted for peers that name none (default: node's bundled roots). */
  ca?: SecureContextOptions['ca'];
  /** Lowest TLS version offered (default `'TLSv1.2'`). */
  minVersion?: SecureVersion;
  /** Highest TLS version offered (default `'TLSv1.3'`). */
  maxVersion?: SecureVersion;
  /** OpenSSL cipher list (default node's). */
  ciphers?: string;
  /** How many distinct CA / client certificate combinations keep a built secure context (default 64). */
  contextCacheSize?: number;
}

/** ALPN protocol ids offered for each policy. */
const ALPN_IDS: Record<AlpnPolicy, string[]> = { h1: ['http/1.1'], h2: ['h2'], h2h1: ['h2', 'http/1.1'] };

// Trust material is compared whole (as core's reuse hash does): a peer resumes a session or shares
// a context only with peers given the very same CA and client certificate objects, or strings of the
// very same text. Long strings (PEM) get an id per distinct text: configuration, a handful per process.
const identities = new WeakMap<object, number>();
const textIdentities = new Map<string, number>();
let nextIdentity = 1;
function identity(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') {
    if (v.length <= 64) return `s:${v}`;
    let id = textIdentities.get(v);
    if (id === undefined) textIdentities.set(v, (id = nextIdentity++));
    return `s#${id}`;
  }
  if (typeof v !== 'object') return String(v);
  let id = identities.get(v);
  if (id === undefined) identities.set(v, (id = nextIdentity++));
  return `#${id}`;
}

function addressText(peer: TlsPeerLike): string {
  const a = peer.address;
  if ('path' in a) return `unix:${a.path}`;
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function boundedSet<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value as string);
}

/**
 * Upstream TLS (Pingora's TLS connector): verification on by default, SNI, custom CA, client
 * certificates, ALPN, session resumption across pooled connections and key logging. Plug it into
 * core with `new TransportConnector({ tlsUpgrade: connector.upgrade.bind(connector) })`.
 */
export class TlsConnector {
  private readonly sessionCacheSize: number;
  private readonly contextCacheSize: number;
  private readonly options: TlsConnectorOptions;
  private readonly sessions = new Map<string, Buffer>();
  private readonly contexts = new Map<string, SecureContext>();
  private keyLogWriter: KeyLogWriter | undefined;

  /** @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` for a negative or fractional cache size. */
  constructor(options: TlsConnectorOptions = {}) {
    this.options = { ...options };
    this.sessionCacheSize = options.sessionCacheSize ?? 1000;
    this.contextCacheSize = options.contextCacheSize ?? 64;
    for (const [name, v] of [['sessionCacheSize', this.sessionCacheSize], ['contextCacheSize', this.contextCacheSize]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `${name} ${v} is not an integer >= 0`);
    }
    if (options.keyLog) this.keyLogWriter = new KeyLogWriter(options.keyLog);
  }

  /**
   * Runs the TLS handshake for `peer` over a connected socket. Resolves once the peer is verified.
   * @throws TlsCertificateError `ERR_TLS_CERT_HOSTNAME`, `ERR_TLS_CERT_EXPIRED`, `ERR_TLS_UNKNOWN_CA`,
   *   `ERR_TLS_CLIENT_CERT_REQUIRED`, ...; TlsHandshakeError for any other handshake failure.
   */
  upgrade(socket: Socket, peer: TlsPeerLike): Promise<TLSSocket> {
    const sessionKey = this.sessionKeyOf(peer);
    let tls: TLSSocket;
    try {
      tls = connect(this.connectionOptions(socket, peer, sessionKey));
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.sessionCacheSize > 0) tls.on('session', (session: Buffer) => boundedSet(this.sessions, sessionKey, session, this.sessionCacheSize));
    if (this.keyLogWriter) tls.on('keylog', this.onKeyLog);
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => {
        tls.off('secureConnect', onSecure);
        this.sessions.delete(sessionKey);
        tls.destroy();
        reject(tlsErrorOf(e, 'connector', addressText(peer)));
      };
      const onSecure = () => {
        tls.off('error', onError);
        resolve(tls);
      };
      tls.once('error', onError);
      tls.once('secureConnect', onSecure);
    });
  }

  /** node:tls options for `peer` over `socket` (what {@link TlsConnector.upgrade} passes to `tls.connect`). */
  connectionOptions(socket: Socket, peer: TlsPeerLike, sessionKey = this.sessionKeyOf(peer)): ConnectionOptions {
    const o = peer.options;
    const host = peer.sni || ('host' in peer.address ? peer.address.host : 'localhost');
    const options: ConnectionOptions = {
      socket,
      host,
      secureContext: this.contextFor(peer),
      rejectUnauthorized: o.verifyCert !== false,
      // RFC 6066 §3: SNI carries DNS names only, never addresses.
      servername: peer.sni && isIP(peer.sni) === 0 ? peer.sni : undefined,
      session: this.sessionCacheSize > 0 ? this.sessions.get(sessionKey) : undefined,
    };
    if (o.alpn) options.ALPNProtocols = ALPN_IDS[o.alpn];
    if (o.verifyHostname === false) options.checkServerIdentity = noHostnameCheck;
    else if (o.alternativeCn) {
      const alternative = o.alternativeCn;
      options.checkServerIdentity = (name: string, cert: PeerCertificate) => (checkServerIdentity(name, cert) === undefined ? undefined : checkServerIdentity(alternative, cert));
    }
    return options;
  }

  /** How many peers have a session kept for resumption. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Forgets every kept session (e.g. after the origins rotated their ticket keys). */
  clearSessions(): void {
    this.sessions.clear();
  }

  /** The key log writer, when `keyLog` is set. */
  get keyLog(): KeyLogWriter | undefined {
    return this.keyLogWriter;
  }

  /** Closes the key log. Connections already made keep working. */
  async close(): Promise<void> {
    await this.keyLogWriter?.close();
    this.keyLogWriter = undefined;
  }

  private sessionKeyOf(peer: TlsPeerLike): string {
    const o = peer.options;
    return `${addressText(peer)}|${peer.sni}|${o.verifyCert === false ? 'nv' : 'v'}|${o.verifyHostname === false ? 'nh' : 'h'}|${o.alternativeCn ?? ''}|${identity(o.ca)}|${identity(o.clientCert?.cert)}|${identity(o.clientCert?.key)}`;
  }

  // Building a context parses every CA certificate: do it once per distinct trust material.
  private contextFor(peer: TlsPeerLike): SecureContext {
    const o = peer.options;
    const ca = o.ca ?? this.options.ca;
    const key = `${identity(ca)}|${identity(o.clientCert?.cert)}|${identity(o.clientCert?.key)}`;
    let context = this.contexts.get(key);
    if (context === undefined) {
      const options: SecureContextOptions = { minVersion: this.options.minVersion ?? 'TLSv1.2', maxVersion: this.options.maxVersion ?? 'TLSv1.3' };
      if (ca !== undefined) options.ca = ca;
      if (this.options.ciphers !== undefined) options.ciphers = this.options.ciphers;
      if (o.clientCert) {
        options.cert = o.clientCert.cert;
        options.key = o.clientCert.key;
      }
      try {
        context = createSecureContext(options);
      } catch (e) {
        throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `TLS options of peer ${addressText(peer)} do not load: ${(e as Error).message}`, { cause: e });
      }
      if (this.contextCacheSize > 0) boundedSet(this.contexts, key, context, this.contextCacheSize);
    } else if (this.contexts.size > 1) {
      boundedSet(this.contexts, key, context, this.contextCacheSize);
    }
    return context;
  }

  private readonly onKeyLog = (line: Buffer): void => {
    this.keyLogWriter?.write(line);
  };
}

function noHostnameCheck(): undefined {
  return undefined;
}
