import { constants as cryptoConstants, createHash, randomBytes } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions, type SecureVersion, type Server, type TlsOptions, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { certificateFacts } from './certificate.js';
import { TlsConfigError, tlsErrorOf, type TlsHandshakeError } from './errors.js';
import { KeyLogWriter } from './key-log.js';
import { ServerNameMap, checkServerNamePattern, normalizeServerName } from './server-name.js';

/** PEM text: one block, a chain, or several (e.g. an RSA and an ECDSA certificate). */
export type PemInput = string | Buffer | Array<string | Buffer>;

/** A certificate chain and its key, given as PEM or as files (files are re-read by `reload()`). */
export interface CertificateSource {
  /** Certificate chain (PEM), leaf first. */
  cert?: PemInput;
  /** Private key (PEM). */
  key?: PemInput;
  /** File holding the certificate chain (PEM); used when `cert` is not given. */
  certFile?: string;
  /** File holding the private key (PEM); used when `key` is not given. */
  keyFile?: string;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

/** A certificate chosen by SNI. */
export interface SniCertificate extends CertificateSource {
  /** Names it serves (`example.com`, `*.example.com`); default: the certificate's DNS SANs, else its CN. */
  serverNames?: string[];
  /** Also serve it to clients that send no SNI or an unknown name (default: the first entry, when no top-level `cert`). */
  default?: boolean;
}

/** What a certificate callback returns: a secure context, the options to build one, or undefined to use the static selection. */
export type CertificateCallbackResult = SecureContext | SecureContextOptions | undefined;

/**
 * Picks a certificate for a handshake by its SNI (Pingora's `TlsAccept::certificate_callback`). The
 * server name is lower-cased. node:tls asks only for clients that send SNI; the others get the default.
 */
export type CertificateCallback = (serverName: string) => CertificateCallbackResult | Promise<CertificateCallbackResult>;

/** Client certificates (mTLS): which CA signs them and whether one is required. */
export interface ClientCertificateOptions {
  /** CA certificate(s) that issue client certificates (PEM). */
  ca?: PemInput;
  /** Or a file holding them. */
  caFile?: string;
  /** Refuse clients without a valid certificate (default true); false only requests one. */
  required?: boolean;
}

/** Options of {@link TlsSettings}. Every field is optional; a certificate comes from one of them. */
export interface TlsSettingsOptions extends CertificateSource {
  /** Certificates selected by SNI: exact names, then `*.name` wildcards, else the default. */
  certificates?: SniCertificate[];
  /** Dynamic selection, asked first for every SNI not in its cache; undefined falls back to `certificates`. */
  certificateCallback?: CertificateCallback;
  /** How many server names' callback results are cached (default 1024; 0 asks every handshake). */
  contextCacheSize?: number;
  /** How long a cached callback result is used (default 300 000 ms). */
  contextCacheTtlMs?: number;
  /** ALPN protocols in the server's order of preference (default `['http/1.1']`; see `enableH2()`). */
  alpn?: readonly string[];
  /** Lowest TLS version accepted (default `'TLSv1.2'`). */
  minVersion?: SecureVersion;
  /** Highest TLS version accepted (default `'TLSv1.3'`). */
  maxVersion?: SecureVersion;
  /** OpenSSL cipher list (TLS 1.2 ciphers and TLS 1.3 suites); default node's. */
  ciphers?: string;
  /** Key exchange groups in preference order (node's `ecdhCurve`), e.g. `['X25519', 'P-256']`; default node's `auto`. */
  groups?: readonly string[];
  /** Prefer the server's cipher order over the client's (default true, as node's tls.Server). */
  honorCipherOrder?: boolean;
  /** Issue session tickets for resumption (default true). */
  sessionTickets?: boolean;
  /** 48 bytes of ticket keys, shared by every server built from these settings (default: random per settings). */
  ticketKeys?: Buffer;
  /** Lifetime of a session for resumption (default 300 000 ms, node's). */
  sessionTimeoutMs?: number;
  /** Session id context: sessions resume only on servers with the same one (default node's: a hash of the command line, so all workers of one command share it). */
  sessionIdContext?: string;
  /** Request or require client certificates verified against a CA. */
  clientCertificates?: ClientCertificateOptions;
  /** Re-read certificate files when they change (default false; `reload()` works either way). */
  watchFiles?: boolean;
  /** How often watched files are checked (default 1000 ms). */
  watchIntervalMs?: number;
  /** Append TLS secrets of every connection to this file in SSLKEYLOGFILE format (debugging only). */
  keyLog?: string;
  /** Bound on a handshake (default 120 000 ms, node's). */
  handshakeTimeoutMs?: number;
  /** Told about every failed handshake; failures never take the server down. */
  onHandshakeError?: (error: TlsHandshakeError) => void;
  /** Told after each automatic reload of watched files: undefined on success, else why the old certificates stay. */
  onReload?: (error: Error | undefined) => void;
}

/** Handshake accounting over every server attached to the settings. */
export interface TlsAcceptorStats {
  handshakeFailures: number;
  /** Failures by error code (`ERR_TLS_HANDSHAKE_FAILURE`, `ERR_TLS_CLIENT_CERT_REQUIRED`, ...). */
  failuresByCode: Map<string, number>;
  /** Certificate callback results served from the cache / asked of the callback. */
  contextCacheHits: number;
  contextCacheMisses: number;
  reloads: number;
}

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

interface LoadedCertificate {
  cert: PemInput;
  key: PemInput;
  passphrase: string | undefined;
}

interface CacheEntry {
  value: SecureContext | undefined | Promise<SecureContext | undefined>;
  expiresAt: number;
}

type SniDone = (error: Error | null, context?: SecureContext) => void;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `cannot read the ${what} file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function load(source: CertificateSource, where: string): LoadedCertificate {
  const cert = source.cert ?? (source.certFile === undefined ? undefined : readPem(source.certFile, `${where} certificate`));
  const key = source.key ?? (source.keyFile === undefined ? undefined : readPem(source.keyFile, `${where} key`));
  if (cert === undefined || key === undefined) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `${where} needs both a certificate (cert or certFile) and a key (key or keyFile)`);
  return { cert, key, passphrase: source.passphrase };
}

function firstPem(pem: PemInput): string | Buffer {
  return Array.isArray(pem) ? pem[0] : pem;
}

function namesOf(entry: SniCertificate, loaded: LoadedCertificate, where: string): string[] {
  if (entry.serverNames) return entry.serverNames;
  const facts = certificateFacts(firstPem(loaded.cert));
  const candidates = facts.dnsNames.length > 0 ? facts.dnsNames : facts.commonName ? [facts.commonName] : [];
  const names = candidates.filter((n) => {
    try {
      checkServerNamePattern(n);
      return true;
    } catch {
      return false;
    }
  });
  if (names.length === 0) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `${where} has no DNS name in its SANs or CN; give serverNames`);
  return names;
}

function positiveInteger(v: number | undefined, fallback: number, name: string, min = 0): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `${name} ${v} is not an integer >= ${min}`);
  return v;
}

// node:tls refuses a bad client certificate by destroying the socket, after which its address is
// gone; reading it once on accept makes net.Socket keep it for the failure report.
function rememberPeerAddress(raw: Socket): void {
  void raw.remoteAddress;
}

/**
 * Downstream TLS settings (Pingora's `TlsSettings`): certificates (static, by SNI, or from a callback),
 * ALPN, versions, ciphers, session tickets, client certificates, key logging and reloading. Build
 * servers with `tls.createServer(settings.serverOptions())`, then `settings.attach(server)`.
 */
export class TlsSettings {
  private readonly options: TlsSettingsOptions;
  private alpn: string[];
  private readonly ticketKeys: Buffer;
  private readonly sessionIdContext: string;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private defaultCertificate: LoadedCertificate | undefined;
  private clientCa: PemInput | undefined;
  private names = new ServerNameMap<SecureContext>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly servers = new Set<Server>();
  private readonly watched: string[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private keyLogWriter: KeyLogWriter | undefined;
  /** Handshake failures and cache use, over every attached server. */
  readonly stats: TlsAcceptorStats = { handshakeFailures: 0, failuresByCode: new Map(), contextCacheHits: 0, contextCacheMisses: 0, reloads: 0 };

  /**
   * Loads the certificates (reading files now) and checks every option.
   * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` (unreadable file, certificate and key that do not
   *   match, bad option), `ERR_TLS_INVALID_SERVER_NAME`, `ERR_TLS_DUPLICATE_SERVER_NAME`.
   */
  constructor(options: TlsSettingsOptions = {}) {
    this.options = { ...options };
    this.alpn = [];
    this.setAlpn(options.alpn ?? ['http/1.1']);
    const min = options.minVersion ?? 'TLSv1.2';
    const max = options.maxVersion ?? 'TLSv1.3';
    if (!VERSIONS.includes(min) || !VERSIONS.includes(max) || VERSIONS.indexOf(min) > VERSIONS.indexOf(max)) {
      throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `TLS versions ${min}..${max} are not a range of ${VERSIONS.join(', ')}`);
    }
    if (options.ticketKeys !== undefined && options.ticketKeys.length !== 48) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `ticketKeys is ${options.ticketKeys.length} bytes; node:tls needs 48`);
    this.ticketKeys = options.ticketKeys ?? randomBytes(48);
    // node:tls's default for its server context, applied to the SNI contexts too, so every context
    // of these settings resumes the same sessions.
    this.sessionIdContext = options.sessionIdContext ?? createHash('sha1').update(process.argv.join(' ')).digest('hex').slice(0, 32);
    this.cacheSize = positiveInteger(options.contextCacheSize, 1024, 'contextCacheSize');
    this.cacheTtlMs = positiveInteger(options.contextCacheTtlMs, 300_000, 'contextCacheTtlMs');
    positiveInteger(options.sessionTimeoutMs, 300_000, 'sessionTimeoutMs', 1000);
    positiveInteger(options.handshakeTimeoutMs, 120_000, 'handshakeTimeoutMs', 1);
    const watchIntervalMs = positiveInteger(options.watchIntervalMs, 1000, 'watchIntervalMs', 10);
    const hasTopLevel = options.cert !== undefined || options.certFile !== undefined || options.key !== undefined || options.keyFile !== undefined;
    if (!hasTopLevel && !options.certificates?.length && !options.certificateCallback) {
      throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', 'TLS settings need a certificate: cert/key, certFile/keyFile, certificates or certificateCallback');
    }
    this.loadCertificates();
    if (options.watchFiles) this.watch(watchIntervalMs);
    if (options.keyLog) this.keyLogWriter = new KeyLogWriter(options.keyLog);
  }

  /**
   * Settings from a certificate chain file and key file with Mozilla's "intermediate" profile
   * (TLS 1.2 and 1.3, AEAD ciphers with forward secrecy), as Pingora's `TlsSettings::intermediate`.
   */
  static intermediate(certFile: string, keyFile: string, options: TlsSettingsOptions = {}): TlsSettings {
    return new TlsSettings({
      minVersion: 'TLSv1.2',
      ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
      groups: ['X25519', 'P-256', 'P-384'],
      ...options,
      certFile,
      keyFile,
    });
  }

  /** Offers HTTP/2 before HTTP/1.1 by ALPN (Pingora's `enable_h2`). Applies to servers built afterwards. */
  enableH2(): this {
    return this.setAlpn(['h2', 'http/1.1']);
  }

  /**
   * Sets the ALPN protocols in order of preference. A client that offers none of them still connects,
   * without ALPN. Applies to servers built afterwards.
   * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` for an empty or over-long (> 255 bytes) name.
   */
  setAlpn(protocols: readonly string[]): this {
    for (const p of protocols) {
      const n = Buffer.byteLength(p);
      if (n === 0 || n > 255) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `ALPN protocol ${JSON.stringify(p)} must be 1..255 bytes (RFC 7301 §3.1)`);
    }
    this.alpn = [...protocols];
    return this;
  }

  /** The ALPN protocols offered, in order of preference. */
  get alpnProtocols(): readonly string[] {
    return this.alpn;
  }

  /** Options for `tls.createServer`: the default certificate, SNI and ALPN selection, versions, tickets, client certificates. */
  serverOptions(): TlsOptions {
    const o = this.options;
    const options: TlsOptions = {
      ...this.contextOptions(this.defaultCertificate),
      ticketKeys: this.ticketKeys,
      sessionTimeout: Math.ceil((o.sessionTimeoutMs ?? 300_000) / 1000),
      handshakeTimeout: o.handshakeTimeoutMs ?? 120_000,
      requestCert: this.clientCa !== undefined,
      rejectUnauthorized: this.clientCa !== undefined && o.clientCertificates?.required !== false,
    };
    if (this.alpn.length > 0) options.ALPNProtocols = [...this.alpn];
    if (this.names.size > 0 || o.certificateCallback) options.SNICallback = this.selectBySni;
    return options;
  }

  /**
   * Wires a server built from {@link TlsSettings.serverOptions} to these settings: handshake failures
   * become {@link TlsHandshakeError}s (counted in `stats`, given to `onHandshakeError`, the socket
   * destroyed), key logging, and `reload()` reaching the server's default certificate.
   */
  attach(server: Server): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    server.on('tlsClientError', this.onClientError);
    if (this.keyLogWriter) server.on('keylog', this.onKeyLog);
    if (this.clientCa !== undefined) server.on('connection', rememberPeerAddress);
    server.once('close', () => {
      this.servers.delete(server);
      server.off('tlsClientError', this.onClientError);
      server.off('keylog', this.onKeyLog);
      server.off('connection', rememberPeerAddress);
    });
  }

  /**
   * Re-reads certificate files and rebuilds every secure context; attached servers use the new ones
   * for new handshakes. On failure the old certificates stay in use.
   * @throws TlsConfigError as the constructor.
   */
  reload(): void {
    this.loadCertificates();
    for (const server of this.servers) server.setSecureContext(this.contextOptions(this.defaultCertificate));
    this.stats.reloads++;
  }

  /** Forgets cached certificate callback results: for one server name, or all. */
  invalidateCertificateCache(serverName?: string): void {
    if (serverName === undefined) this.cache.clear();
    else this.cache.delete(normalizeServerName(serverName));
  }

  /** Stops watching files and closes the key log. Attached servers keep working. */
  async close(): Promise<void> {
    for (const file of this.watched) unwatchFile(file, this.onFileChange);
    this.watched.length = 0;
    clearTimeout(this.watchTimer);
    await this.keyLogWriter?.close();
    this.keyLogWriter = undefined;
  }

  /** The key log writer, when `keyLog` is set. */
  get keyLog(): KeyLogWriter | undefined {
    return this.keyLogWriter;
  }

  private loadCertificates(): void {
    const o = this.options;
    const clientCa = o.clientCertificates ? (o.clientCertificates.ca ?? (o.clientCertificates.caFile === undefined ? undefined : readPem(o.clientCertificates.caFile, 'client CA'))) : undefined;
    if (o.clientCertificates && clientCa === undefined) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', 'clientCertificates needs ca or caFile');
    const hasTopLevel = o.cert !== undefined || o.certFile !== undefined || o.key !== undefined || o.keyFile !== undefined;
    let defaultCertificate = hasTopLevel ? load(o, 'the default certificate') : undefined;
    const names = new ServerNameMap<SecureContext>();
    const previousCa = this.clientCa;
    this.clientCa = clientCa;
    try {
      if (defaultCertificate) this.buildContext(defaultCertificate, 'the default certificate');
      const entries = o.certificates ?? [];
      const defaultIndex = Math.max(0, entries.findIndex((e) => e.default));
      entries.forEach((entry, i) => {
        const where = `certificates[${i}]`;
        const loaded = load(entry, where);
        const context = this.buildContext(loaded, where);
        for (const name of namesOf(entry, loaded, where)) names.set(name, context);
        if (i === defaultIndex && (!defaultCertificate || entry.default)) defaultCertificate = loaded;
      });
    } catch (e) {
      this.clientCa = previousCa;
      throw e;
    }
    this.defaultCertificate = defaultCertificate;
    this.names = names;
    this.cache.clear();
  }

  private buildContext(certificate: LoadedCertificate | undefined, where: string, extra?: SecureContextOptions): SecureContext {
    try {
      return createSecureContext({ ...this.contextOptions(certificate), ...extra });
    } catch (e) {
      throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `${where} does not load: ${(e as Error).message}`, { cause: e });
    }
  }

  private contextOptions(certificate: LoadedCertificate | undefined): SecureContextOptions {
    const o = this.options;
    // Every field tls.Server.setSecureContext would otherwise default differently for the default
    // context than createSecureContext does for SNI contexts is set explicitly.
    const options: SecureContextOptions = {
      minVersion: o.minVersion ?? 'TLSv1.2',
      maxVersion: o.maxVersion ?? 'TLSv1.3',
      ticketKeys: this.ticketKeys,
      honorCipherOrder: o.honorCipherOrder ?? true,
      sessionIdContext: this.sessionIdContext,
    };
    if (certificate) {
      options.cert = certificate.cert;
      options.key = certificate.key;
      if (certificate.passphrase !== undefined) options.passphrase = certificate.passphrase;
    }
    if (o.ciphers !== undefined) options.ciphers = o.ciphers;
    if (o.groups !== undefined) options.ecdhCurve = o.groups.join(':');
    if (o.sessionTickets === false) options.secureOptions = cryptoConstants.SSL_OP_NO_TICKET;
    if (this.clientCa !== undefined) options.ca = this.clientCa;
    return options;
  }

  // SNICallback: the callback's answer (cached), else the static names, else the default context.
  private readonly selectBySni = (serverName: string, done: SniDone): void => {
    if (!this.options.certificateCallback) {
      done(null, this.names.get(serverName));
      return;
    }
    const dynamic = this.dynamicContext(normalizeServerName(serverName));
    if (dynamic instanceof Promise) {
      dynamic.then(
        (context) => done(null, context ?? this.names.get(serverName)),
        (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
      );
    } else done(null, dynamic ?? this.names.get(serverName));
  };

  private dynamicContext(name: string): SecureContext | undefined | Promise<SecureContext | undefined> {
    const now = Date.now();
    const hit = this.cache.get(name);
    if (hit && hit.expiresAt > now) {
      this.stats.contextCacheHits++;
      // Move to the back: the Map's order is the LRU order.
      this.cache.delete(name);
      this.cache.set(name, hit);
      return hit.value;
    }
    this.stats.contextCacheMisses++;
    const answer = this.options.certificateCallback!(name);
    const value = answer instanceof Promise ? answer.then((r) => this.contextOf(r, name)) : this.contextOf(answer, name);
    if (this.cacheSize > 0) {
      const entry: CacheEntry = { value, expiresAt: now + this.cacheTtlMs };
      this.cache.delete(name);
      this.cache.set(name, entry);
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      // A failed lookup is not cached: the next handshake asks again.
      if (value instanceof Promise) {
        value.then(
          (v) => {
            if (this.cache.get(name) === entry) entry.value = v;
          },
          () => {
            if (this.cache.get(name) === entry) this.cache.delete(name);
          },
        );
      }
    }
    return value;
  }

  private contextOf(result: CertificateCallbackResult, name: string): SecureContext | undefined {
    if (result === undefined) return undefined;
    if ('context' in result) return result as SecureContext;
    const options = result as SecureContextOptions;
    return this.buildContext(undefined, `the certificate callback's answer for ${JSON.stringify(name)}`, options);
  }

  private readonly onClientError = (error: Error, socket: TLSSocket): void => {
    const raw = socket as TLSSocket & { _parent?: Socket };
    const host = socket.remoteAddress ?? raw._parent?.remoteAddress;
    const port = socket.remotePort ?? raw._parent?.remotePort;
    const address = host === undefined ? undefined : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    // node:tls judges a client certificate after OpenSSL's handshake and then drops the socket, which
    // surfaces here as a hang-up; the verdict it recorded says why.
    const verdict = (socket as TLSSocket & { authorizationError?: unknown }).authorizationError;
    const cause = typeof verdict === 'string' && verdict ? Object.assign(new Error(`client certificate refused: ${verdict}`, { cause: error }), { code: verdict, reason: `client certificate refused: ${verdict}` }) : error;
    const failure = tlsErrorOf(cause, 'acceptor', address);
    const stats = this.stats;
    stats.handshakeFailures++;
    stats.failuresByCode.set(failure.code, (stats.failuresByCode.get(failure.code) ?? 0) + 1);
    socket.destroy();
    const report = this.options.onHandshakeError;
    if (report) {
      try {
        report(failure);
      } catch (e) {
        // A throwing reporter must not take the server down with it.
        process.emitWarning(`onHandshakeError threw: ${(e as Error)?.message ?? String(e)}`, 'TlsSettingsWarning');
      }
    }
  };

  private readonly onKeyLog = (line: Buffer): void => {
    this.keyLogWriter?.write(line);
  };

  private watch(intervalMs: number): void {
    const o = this.options;
    const files = [o.certFile, o.keyFile, o.clientCertificates?.caFile, ...(o.certificates ?? []).flatMap((c) => [c.certFile, c.keyFile])];
    for (const file of new Set(files)) {
      if (file === undefined) continue;
      watchFile(file, { interval: intervalMs, persistent: false }, this.onFileChange);
      this.watched.push(file);
    }
  }

  // A certificate and its key are often replaced one after the other: wait for both before reloading.
  private readonly onFileChange = (): void => {
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(this.reloadWatched, 100);
    this.watchTimer.unref();
  };

  private readonly reloadWatched = (): void => {
    let error: Error | undefined;
    try {
      this.reload();
    } catch (e) {
      error = e as Error;
    }
    if (this.options.onReload) this.options.onReload(error);
    else if (error) process.emitWarning(`certificate reload failed, keeping the old certificates: ${error.message}`, 'TlsSettingsWarning');
  };
}
