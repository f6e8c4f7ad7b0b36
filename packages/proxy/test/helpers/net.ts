// Real peers for proxy tests: Node http origins, the proxy as a core ListeningService, curl, raw sockets.
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { HttpPeer, TransportConnector, silentLogger } from '@sluice/core';
import type { Logger, PeerOptions } from '@sluice/core';
import { httpProxyService, type HttpProxyServiceOptions, type ProxyHttp } from '../../src/index.js';

export interface Origin {
  port: number;
  server: Server;
  /** Sockets the origin accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** A Node http origin on 127.0.0.1, port 0. */
export async function startOrigin(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Origin> {
  const server = createServer(handler);
  const origin: Origin = {
    port: 0,
    server,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => origin.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as AddressInfo).port;
  return origin;
}

export interface RunningProxy {
  port: number;
  connector: TransportConnector;
  close(): Promise<void>;
}

/** Runs `proxy` on 127.0.0.1, port 0, as core's listening service would in a Server. */
export async function startProxy<Ctx>(proxy: ProxyHttp<Ctx>, options: HttpProxyServiceOptions & { logger?: Logger } = {}): Promise<RunningProxy> {
  const connector = options.connector ?? new TransportConnector();
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 128 }, proxy, { logger: silentLogger, ...options, connector });
  return runProxyService(service.addTcp('127.0.0.1:0'), connector);
}

/** Starts a proxy service with its endpoints added; `close` stops it and empties the pool. */
export async function runProxyService(service: ReturnType<typeof httpProxyService>, connector: TransportConnector): Promise<RunningProxy> {
  const shutdown = new AbortController();
  const running = service.start(shutdown.signal, silentLogger);
  await service.readiness.ready;
  return {
    port: service.addresses[0].port,
    connector,
    close: async () => {
      shutdown.abort();
      service.stopNow();
      await running;
      connector.pool.clear();
    },
  };
}

/** A peer for an origin on 127.0.0.1. */
export function peerOf(port: number, options: PeerOptions = {}): HttpPeer {
  return new HttpPeer(`127.0.0.1:${port}`, false, '', options);
}

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

/** One request with Node's http client. */
/** A request to the proxy; `timeoutMs` bounds it (rejecting) where a bug would leave it hanging. */
export function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent | false; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(parts), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.timeoutMs !== undefined) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no response within ${opts.timeoutMs} ms`)));
    req.end(opts.body);
  });
}

/** Sends raw bytes and collects everything until the server closes (or `waitMs` of silence). */
export function rawExchange(port: number, bytes: string | Buffer, waitMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, waitMs);
    };
    socket.on('data', (d) => {
      out += d.toString('latin1');
      arm();
    });
    socket.on('close', finish);
    socket.on('error', reject);
    socket.write(bytes);
    arm();
  });
}

/** Runs curl; resolves with its output whatever its exit code. */
export function curl(args: string[], stdin?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--max-time', '20', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A closed port: listen, note the port, close. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface RawOrigin {
  port: number;
  /** Sockets accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/**
 * A TCP origin that hands each accepted socket and its n-th request's head to `onRequest` (n counts
 * requests on that connection, from 0) as soon as the head arrived, or once its Content-Length body
 * did too with `afterBody`: for answers no HTTP server would give.
 */
export async function startRawOrigin(onRequest: (socket: Socket, n: number, head: Buffer) => void, options: { afterBody?: boolean } = {}): Promise<RawOrigin> {
  const { createServer: createNetServer } = await import('node:net');
  const sockets = new Set<Socket>();
  const origin: RawOrigin = { port: 0, connections: 0, close: async () => {} };
  const server = createNetServer((socket) => {
    origin.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let n = 0;
    let pending = Buffer.alloc(0);
    let head: Buffer | null = null;
    let bodyLeft = 0;
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (head === null) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = pending.subarray(0, end + 4);
        pending = pending.subarray(end + 4);
        bodyLeft = Number(/content-length: *(\d+)/i.exec(head.toString('latin1'))?.[1] ?? 0);
        if (options.afterBody !== true) onRequest(socket, n, head);
      }
      const taken = Math.min(pending.length, bodyLeft);
      pending = pending.subarray(taken);
      bodyLeft -= taken;
      if (bodyLeft > 0) return;
      if (options.afterBody === true) onRequest(socket, n, head);
      n++;
      head = null;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as AddressInfo).port;
  origin.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return origin;
}
