import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

/** Which HTTP versions to offer upstream by ALPN: h1 only, h2 only, or h2 with h1 fallback. */
export type AlpnPolicy = 'h1' | 'h2' | 'h2h1';

/** TCP keepalive on a connection: the idle time before the first probe. */
export interface TcpKeepalive {
  idleMs: number;
}

/**
 * How to connect to and use a peer (pingora's `PeerOptions`). Durations are milliseconds; undefined
 * means no limit, except the connect bounds, which default to the connector's. TLS fields apply to
 * TLS peers.
 */
export interface PeerOptions {
  /** Bound on the TCP connect (default: the connector's, 10 s; `Infinity` for none). */
  connectionTimeoutMs?: number;
  /** Bound on the whole connect, TLS handshake included (default: the connector's, 30 s, or the connect bound when longer). */
  totalConnectionTimeoutMs?: number;
  readTimeoutMs?: number;
  writeTimeoutMs?: number;
  /** How long an idle connection to this peer may wait in the pool (default: the pool's). */
  idleTimeoutMs?: number;
  tcpKeepalive?: TcpKeepalive;
  /** TCP_NODELAY (default true). */
  noDelay?: boolean;
  /** Local address to connect from. */
  bindTo?: string;
  alpn?: AlpnPolicy;
  /** Verify the peer's certificate chain (default true). */
  verifyCert?: boolean;
  /** Verify that the certificate names the host (default true). */
  verifyHostname?: boolean;
  /** Another name the certificate may carry instead of the SNI. */
  alternativeCn?: string;
  /** Trusted CA certificates (PEM) instead of the system's. */
  ca?: SecureContextOptions['ca'];
  /** Client certificate chain and key (PEM) for mTLS peers. */
  clientCert?: { cert: SecureContextOptions['cert']; key: SecureContextOptions['key'] };
}

/** Where a peer listens: host and port, or a Unix socket path. */
export type PeerAddress = { host: string; port: number } | { path: string };

/** Parses `host:port`, `[v6]:port` or `unix:/path`. @throws TypeError for anything else. */
export function parsePeerAddress(text: string): PeerAddress {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new TypeError(`peer address ${JSON.stringify(text)} is not host:port, [ipv6]:port or unix:/path`);
  return { host: m[1] ?? m[2], port };
}

// Trust material decides which pooled connections a peer may share, so it is compared whole: objects
// (Buffers, arrays) by identity, long strings (PEM text) by their full content through an id per
// distinct text. Both hold configuration, a handful of values per process.
const objectIds = new WeakMap<object, number>();
const textIds = new Map<string, number>();
let nextId = 1;
function identity(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') {
    if (v.length <= 64) return `s:${v}`;
    let id = textIds.get(v);
    if (id === undefined) textIds.set(v, (id = nextId++));
    return `s#${id}`;
  }
  if (typeof v !== 'object' || v === null) return String(v);
  let id = objectIds.get(v);
  if (id === undefined) objectIds.set(v, (id = nextId++));
  return `#${id}`;
}

/** The options a reuse hash depends on, as they were when it was computed. */
function hashFields(o: PeerOptions): unknown[] {
  return [o.alpn, o.verifyCert, o.verifyHostname, o.alternativeCn, o.bindTo, o.ca, o.clientCert?.cert, o.clientCert?.key];
}

function sameFields(f: unknown[], o: PeerOptions): boolean {
  return f[0] === o.alpn && f[1] === o.verifyCert && f[2] === o.verifyHostname && f[3] === o.alternativeCn && f[4] === o.bindTo && f[5] === o.ca && f[6] === o.clientCert?.cert && f[7] === o.clientCert?.key;
}

/**
 * An upstream to connect to (pingora's `BasicPeer`). Connections are pooled by {@link Peer.reuseHash}:
 * the same address, TLS, SNI and connection-shaping options.
 */
export class Peer {
  readonly address: PeerAddress;
  readonly tls: boolean;
  sni: string;
  options: PeerOptions;

  constructor(address: string | PeerAddress, tls = false, sni = '', options: PeerOptions = {}) {
    this.address = typeof address === 'string' ? parsePeerAddress(address) : address;
    const a = this.address;
    this.addressText = 'path' in a ? `unix:${a.path}` : isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    this.tls = tls;
    this.sni = sni;
    this.options = options;
  }

  /** `host:port` (IPv6 bracketed) or `unix:/path`; computed once, as the address never changes. */
  readonly addressText: string;

  /** The last reuse hash and what it was computed from; see {@link Peer.reuseHash}. */
  private hashMemo: { hash: string; sni: string; options: PeerOptions; fields: unknown[] } | undefined;

  /**
   * The key of the pool bucket this peer's connections go to. Asked several times per request (pool
   * get and put), so the last one is kept and returned while nothing it depends on changed: the same
   * string, whose hash a Map lookup has already computed.
   */
  reuseHash(): string {
    const o = this.options;
    const memo = this.hashMemo;
    if (memo !== undefined && memo.sni === this.sni && memo.options === o && sameFields(memo.fields, o)) return memo.hash;
    const hash = this.computeReuseHash();
    this.hashMemo = { hash, sni: this.sni, options: o, fields: hashFields(o) };
    return hash;
  }

  private computeReuseHash(): string {
    const o = this.options;
    return [
      this.addressText,
      this.tls ? 'tls' : 'tcp',
      this.sni,
      o.alpn ?? '',
      o.verifyCert === false ? 'nv' : 'v',
      o.verifyHostname === false ? 'nh' : 'h',
      o.alternativeCn ?? '',
      o.bindTo ?? '',
      identity(o.ca),
      identity(o.clientCert?.cert),
      identity(o.clientCert?.key),
    ].join('|');
  }

  toString(): string {
    return this.addressText;
  }
}

/** The scheme of an HTTP peer follows its TLS flag. */
export type HttpScheme = 'http' | 'https';

/** An HTTP upstream (pingora's `HttpPeer`): a peer plus what HTTP needs (scheme, ALPN policy). */
export class HttpPeer extends Peer {
  constructor(address: string | PeerAddress, tls = false, sni = '', options: PeerOptions = {}) {
    super(address, tls, sni, options);
  }

  get scheme(): HttpScheme {
    return this.tls ? 'https' : 'http';
  }

  /** Whether HTTP/2 may be used on a connection to this peer. */
  get wantsH2(): boolean {
    return this.options.alpn === 'h2' || this.options.alpn === 'h2h1';
  }
}
