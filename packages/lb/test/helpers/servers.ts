// Real servers on 127.0.0.1 for the tests: TCP, HTTP/1.1 and TLS, each able to die and come back
// on the same port.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Backend } from '../../src/index.js';

/** A server that can be stopped and started again on its port. */
export class TestServer {
  port = 0;
  readonly #make: () => Server;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  readonly host: string;

  constructor(make: () => Server, host = '127.0.0.1') {
    this.#make = make;
    this.host = host;
  }

  get addr(): string {
    return `${this.host}:${this.port}`;
  }

  backend(weight = 1): Backend {
    return new Backend(this.addr, weight);
  }

  get running(): boolean {
    return this.#server !== null;
  }

  async start(): Promise<this> {
    const server = this.#make();
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and cuts open connections. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Accepts TCP connections and closes them; on `host` (a loopback address) and `port` (0: any). */
export function tcpServer(host = '127.0.0.1', port = 0): Promise<TestServer> {
  const server = new TestServer(() => createNetServer((s) => s.end()), host);
  server.port = port;
  return server.start();
}

/** Answers every HTTP request with `status()`; records the requests it saw. */
export function httpServer(status: () => number = () => 200, seen: IncomingMessage[] = [], body = 'ok'): Promise<TestServer> {
  return new TestServer(() =>
    createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req);
      res.writeHead(status(), { 'content-type': 'text/plain' });
      res.end(body);
    }),
  ).start();
}

/** Accepts connections and never answers (for timeouts). */
export function silentServer(): Promise<TestServer> {
  return new TestServer(() => createNetServer(() => {})).start();
}

let material: { key: Buffer; cert: Buffer } | undefined;
/** A self-signed certificate for `backend.test` (made once per process with the openssl CLI). */
export function testCertificate(): { key: Buffer; cert: Buffer } {
  if (material) return material;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lb-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=backend.test', '-addext', 'subjectAltName=DNS:backend.test'], { stdio: 'ignore' });
    material = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return material;
}

/** A TLS server for `backend.test` that completes handshakes and closes. */
export function tlsServer(): Promise<TestServer> {
  const { key, cert } = testCertificate();
  return new TestServer(() => createTlsServer({ key, cert }, (s) => s.end())).start();
}

/** Resolves after `ms`. */
export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 10 ms until it holds; rejects after `ms`. */
export async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

/** `promise`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
