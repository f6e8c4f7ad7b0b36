import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { chmodSync, existsSync, linkSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import { SluiceError, errorTypeOfSystemError } from './error.js';
import { type SocketAddress, digestOf, formatAddress } from './digest.js';
import { reportError, type ErrorReporter } from './error-reporter.js';
import type { ListenerSource } from './handover.js';
import { bindTcpHandle, bindUnixHandle, handleAddress, type ListenerHandle } from './listener-handle.js';
import type { Logger } from './logger.js';
import { parsePeerAddress, type TcpKeepalive } from './peer.js';
import { Readiness, type Service } from './service.js';
import { Stream } from './stream.js';

/**
 * The application behind a listening service (pingora's `ServerApp`): it is given each accepted
 * connection. Return a Promise that settles when you are done with the connection (the service then
 * ends it if you did not), or nothing if the connection's own events drive your work.
 */
export interface ServerApp {
  processNewConnection(stream: Stream, shutdown: AbortSignal): Promise<void> | void;
  /** Called once when the service has stopped. */
  cleanup?(): Promise<void> | void;
  /** A TLS handshake on one of the service's endpoints failed (typed `TLSHandshakeFailure`, source Downstream). */
  tlsHandshakeFailed?(error: SluiceError): void;
  /** Takes the service's error reporter (the server's), unless the app was given its own. */
  inheritErrorReporter?(reporter: ErrorReporter): void;
}

/** Socket options for a TCP endpoint. */
export interface TcpListenOptions {
  /** TCP_NODELAY on accepted sockets (default true: proxies write whole messages). */
  noDelay?: boolean;
  tcpKeepalive?: TcpKeepalive;
  /** Accept queue length (default 511, Node's). */
  backlog?: number;
  /** Only IPv6 on an IPv6 wildcard address. */
  ipv6Only?: boolean;
}

/**
 * TLS for an endpoint: node:tls server options, and a hook to see the server (for key logging and
 * handshake accounting). @sluice/tls's `TlsSettings` provides both.
 */
export interface TlsAcceptorSettings {
  serverOptions(): TlsOptions;
  attach?(server: TlsServer): void;
}

interface Endpoint {
  /**
   * Names the endpoint across an upgrade and to workers: the successor (or worker) asks for the
   * listener by this key. The service name is part of it, so two services on `127.0.0.1:0` each get
   * their own socket.
   */
  key: string;
  /** `tcp 127.0.0.1:8080`, for logs. */
  label: string;
  unixPath?: string;
  /** Listens, on `inherited` (a listener handed over by the previous process) when given. */
  listen(onSocket: (socket: Socket, unixPath?: string) => void, log: Logger, inherited: ListenerHandle | undefined): Promise<NetServer>;
  /** Binds without listening, for a supervisor whose workers accept. */
  bind(): Promise<ListenerHandle> | ListenerHandle;
}

/**
 * The listener a predecessor hands over for `endpoint`, if any. Builds up to @sluice/core 0.1.0 keyed
 * listeners by label alone (`tcp 127.0.0.1:80`, no service name); asking for that key when the new
 * one is missing lets the first upgrade from such a build keep its sockets instead of rebinding the
 * port. Kept for one release: remove in the release after next.
 */
async function inheritedListener(endpoint: Endpoint, inherit: ListenerSource | undefined): Promise<ListenerHandle | undefined> {
  if (!inherit) return undefined;
  return (await inherit.take(endpoint.key)) ?? (await inherit.take(endpoint.label));
}

/**
 * A service that accepts connections on any number of endpoints (TCP, Unix sockets, TLS) and hands
 * each to its {@link ServerApp}. A failing connection handler is logged and its connection closed;
 * the service keeps serving.
 */
export class ListeningService<App extends ServerApp = ServerApp> implements Service {
  readonly readiness = new Readiness();
  readonly dependencies: Service[] = [];
  private readonly endpoints: Endpoint[] = [];
  private readonly servers: NetServer[] = [];
  private readonly handedOver = new Set<NetServer>();
  private readonly bound: Array<{ handle: ListenerHandle; endpoint: Endpoint }> = [];
  private readonly open = new Set<Socket>();
  private drained: (() => void) | undefined;
  /** Every tracked socket's 'close' listener (the socket is `this`): one function, not one per connection. */
  private readonly untrack = untrackSocket(this.open, () => this.drained?.());
  /** Where a crashed connection handler is reported (default: the server's, see {@link ServerOptions.errorReporter}). */
  errorReporter: ErrorReporter | undefined;

  constructor(
    readonly name: string,
    readonly app: App,
  ) {}

  /** Listens on TCP `addr` (`127.0.0.1:8080`, `[::1]:0`, `0.0.0.0:80`). */
  addTcp(addr: string, options: TcpListenOptions = {}): this {
    const { host, port } = listenAddress(addr);
    this.endpoints.push({
      ...this.endpointNames(`tcp ${addr}`),
      listen: (onSocket, _log, inherited) => {
        const server = createNetServer(serverSocketOptions(options), (s) => onSocket(s));
        return listenOn(server, inherited ?? { host, port, backlog: options.backlog, ipv6Only: options.ipv6Only }, `tcp ${addr}`);
      },
      bind: () => bindTcpHandle(host, port),
    });
    return this;
  }

  /**
   * Listens on a Unix domain socket at `path`; `mode` sets its permissions (e.g. 0o660). A stale
   * socket file left by a previous run is removed first.
   */
  addUds(path: string, mode?: number): this {
    this.endpoints.push({
      ...this.endpointNames(`uds ${path}`),
      unixPath: path,
      listen: async (onSocket, _log, inherited) => {
        const server = createNetServer((s) => onSocket(s, path));
        if (inherited) return listenOn(server, inherited, `uds ${path}`);
        if (existsSync(path) && statSync(path).isSocket()) unlinkSync(path);
        await listenOn(server, { path }, `uds ${path}`);
        if (mode !== undefined) chmodSync(path, mode);
        return server;
      },
      bind: () => bindUnixHandle(path, mode),
    });
    return this;
  }

  /** Listens on TCP `addr` with TLS from `settings` (see @sluice/tls `TlsSettings`). */
  addTls(addr: string, settings: TlsAcceptorSettings, options: TcpListenOptions = {}): this {
    const { host, port } = listenAddress(addr);
    this.endpoints.push({
      ...this.endpointNames(`tls ${addr}`),
      listen: (onSocket, log, inherited) => {
        const server = createTlsServer({ ...serverSocketOptions(options), ...settings.serverOptions() });
        // Counted from the TCP accept, not the end of the handshake: a drain (or the hand-over to a
        // successor) must wait for handshakes in progress too.
        server.on('connection', (raw: Socket) => this.track(raw));
        server.on('secureConnection', (s: TLSSocket) => onSocket(s));
        // A failed handshake is the client's problem: typed and logged, never the process's. Settings
        // that attach to the server (@sluice/tls) do that themselves; others get core's log line.
        if (settings.attach) settings.attach(server);
        else server.on('tlsClientError', (e: Error, s: TLSSocket) => log.warn(`${this.name}: ${handshakeError(e, s, addr).message}`));
        const app = this.app;
        if (app.tlsHandshakeFailed) server.on('tlsClientError', (e: Error, s: TLSSocket) => app.tlsHandshakeFailed!(handshakeError(e, s, addr)));
        return listenOn(server, inherited ?? { host, port, backlog: options.backlog, ipv6Only: options.ipv6Only }, `tls ${addr}`);
      },
      bind: () => bindTcpHandle(host, port),
    });
    return this;
  }

  /** Takes `reporter` unless the service has one, and hands it on to the app. */
  inheritErrorReporter(reporter: ErrorReporter): void {
    this.errorReporter ??= reporter;
    this.app.inheritErrorReporter?.(reporter);
  }

  /** The key and label of a new endpoint; a second endpoint with the same label in this service gets `#2`. */
  private endpointNames(label: string): { key: string; label: string } {
    const base = `${this.name}: ${label}`;
    const same = this.endpoints.filter((e) => e.label === label).length;
    return { key: same === 0 ? base : `${base} #${same + 1}`, label };
  }

  /** Waits for `service` to be ready before listening. */
  dependsOn(service: Service): this {
    this.dependencies.push(service);
    return this;
  }

  /**
   * Where the service listens, once ready (ports resolved when 0 was asked for). In a supervisor
   * (`threads` > 1), the sockets it bound for its workers.
   */
  get addresses(): SocketAddress[] {
    if (this.servers.length === 0 && this.bound.length > 0) {
      return this.bound.map(({ handle, endpoint }) => {
        const a = handleAddress(handle);
        if (!a) return { family: 'unix', address: endpoint.unixPath ?? '', port: 0 };
        return { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port };
      });
    }
    return this.servers.map((s) => {
      const a = s.address();
      if (typeof a === 'string') return { family: 'unix', address: a, port: 0 };
      if (a === null) return { family: 'unix', address: '', port: 0 };
      return { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port };
    });
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.open.size;
  }

  /**
   * The listening sockets by endpoint key, for handing over to a successor process. Raw handles, not
   * servers: a `net.Server` sent over IPC starts listening (accepting) in the receiving process.
   */
  listeners(): Map<string, ListenerHandle> {
    const out = new Map<string, ListenerHandle>();
    for (const [i, e] of this.endpoints.entries()) {
      const handle = (this.servers[i] as (NetServer & { _handle?: ListenerHandle | null }) | undefined)?._handle;
      if (handle) out.set(e.key, handle);
    }
    return out;
  }

  /**
   * Binds every endpoint without listening (or takes it from `inherit`), for a supervisor that hands
   * the sockets to worker processes. Keyed like {@link ListeningService.listeners}.
   */
  async bindHandles(inherit?: ListenerSource): Promise<Map<string, ListenerHandle>> {
    const out = new Map<string, ListenerHandle>();
    for (const endpoint of this.endpoints) {
      const handle = (await inheritedListener(endpoint, inherit)) ?? (await endpoint.bind());
      this.bound.push({ handle, endpoint });
      out.set(endpoint.key, handle);
    }
    return out;
  }

  /** Marks the listeners as handed over: closing them must leave the sockets to the successor. */
  markHandedOver(): void {
    for (const s of this.servers) this.handedOver.add(s);
  }

  async start(shutdown: AbortSignal, log: Logger, inherit?: ListenerSource): Promise<void> {
    if (this.endpoints.length === 0) throw new SluiceError('ConfigError', { context: `service ${this.name} has no endpoint` });
    const onSocket = (socket: Socket, unixPath?: string) => this.accept(socket, unixPath, shutdown, log);
    try {
      for (const endpoint of this.endpoints) {
        const inherited = await inheritedListener(endpoint, inherit);
        if (inherited) log.info(`${this.name}: took over ${endpoint.label} from the previous process`);
        this.servers.push(await endpoint.listen(onSocket, log, inherited));
      }
    } catch (e) {
      for (const s of this.servers) s.close();
      this.readiness.fail(e);
      throw e;
    }
    this.readiness.markReady();
    if (!shutdown.aborted) await once(shutdown, 'abort');
    // Stop accepting; connections already open finish their work (apps watch `shutdown`).
    await Promise.all(this.servers.map((s, i) => this.closeListener(s, this.endpoints[i])));
    if (this.open.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.app.cleanup?.();
  }

  stopNow(): void {
    for (const [i, s] of this.servers.entries()) void this.closeListener(s, this.endpoints[i]);
    for (const socket of this.open) socket.destroy();
  }

  private closeListener(server: NetServer, endpoint: Endpoint): Promise<void> {
    const path = endpoint.unixPath;
    if (!server.listening) return Promise.resolve();
    if (path === undefined || !this.handedOver.has(server)) return new Promise((r) => server.close(() => r()));
    // Closing a Unix listener unlinks its path, which the successor now serves. Keep a hard link to
    // the socket file across the close and put it back.
    const keep = `${path}.handover-${process.pid}`;
    try {
      linkSync(path, keep);
    } catch {
      return new Promise((r) => server.close(() => r()));
    }
    const closed = new Promise<void>((r) => server.close(() => r()));
    renameSync(keep, path);
    return closed;
  }

  /** Counts `socket` as open until it closes: a graceful shutdown waits for every open connection. */
  private track(socket: Socket): void {
    this.open.add(socket);
    socket.on('close', this.untrack);
  }

  // Every connection that reaches here was accepted by the kernel before the listener closed (a TLS
  // one may finish its handshake after the shutdown began), so it is served: the app sees the aborted
  // shutdown signal and winds down (HTTP answers with Connection: close).
  private accept(socket: Socket, unixPath: string | undefined, shutdown: AbortSignal, log: Logger): void {
    this.track(socket);
    const stream = new Stream(socket, digestOf(socket, Date.now(), undefined, unixPath));
    let result: Promise<void> | void;
    try {
      result = this.app.processNewConnection(stream, shutdown);
    } catch (e) {
      this.failed(stream, e, log);
      return;
    }
    if (result && typeof result.then === 'function') {
      result.then(
        () => {
          if (!socket.destroyed) socket.end();
        },
        (e: unknown) => this.failed(stream, e, log),
      );
    }
  }

  private failed(stream: Stream, e: unknown, log: Logger): void {
    log.error(`${this.name}: connection from ${stream.peer} failed`, e);
    const peer = stream.digest.peerAddr;
    reportError(this.errorReporter, e, { where: 'connection handler', service: this.name, client: peer && formatAddress(peer) }, log);
    stream.destroy();
  }
}

/** A 'close' listener that forgets its socket (`this`) and tells `drained` when none is left. */
function untrackSocket(open: Set<Socket>, drained: () => void): (this: Socket) => void {
  return function (this: Socket) {
    open.delete(this);
    if (open.size === 0) drained();
  };
}

function handshakeError(e: Error, s: TLSSocket, addr: string): SluiceError {
  const peer = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unknown peer';
  return SluiceError.because('TLSHandshakeFailure', `TLS handshake with ${peer} on ${addr}`, e).intoDown();
}

function serverSocketOptions(o: TcpListenOptions): { noDelay: boolean; keepAlive: boolean; keepAliveInitialDelay?: number } {
  return { noDelay: o.noDelay !== false, keepAlive: o.tcpKeepalive !== undefined, keepAliveInitialDelay: o.tcpKeepalive?.idleMs };
}

function listenAddress(addr: string): { host: string; port: number } {
  const a = parsePeerAddress(addr);
  if ('path' in a) throw new SluiceError('ConfigError', { context: `listen address ${addr} is a Unix path; use addUds` });
  return a;
}

async function listenOn(server: NetServer, options: ListenerHandle | { host?: string; port?: number; path?: string; backlog?: number; ipv6Only?: boolean }, what: string): Promise<NetServer> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options as Parameters<NetServer['listen']>[0], () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw SluiceError.because(errorTypeOfSystemError(e, 'BindError'), `listening on ${what}`, e);
  }
  return server;
}
