// Real-socket helpers for session tests: a server on our sessions, raw exchanges, curl.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { ResponseHeader, Stream } from '@sluice/core';
import type { RequestHeader } from '@sluice/core';
import { serveHttp1 } from '../../src/index.js';
import type { RequestHandler, ServerSession, ServerSessionOptions } from '../../src/index.js';

export interface TestServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** A server on 127.0.0.1:0 serving every connection with `handler` through serveHttp1. */
export function startServer(handler: RequestHandler, options: ServerSessionOptions = {}): Promise<TestServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    void serveHttp1(new Stream(socket), handler, options);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** Answers with JSON of the request: method, target, version, fields, body length and SHA-256, trailers. */
export async function echoHandler(session: ServerSession, request: RequestHeader): Promise<void> {
  const hash = createHash('sha256');
  let length = 0;
  for (let c = await session.readBodyChunk(); c !== null; c = await session.readBodyChunk()) {
    hash.update(c);
    length += c.length;
  }
  const body = JSON.stringify({
    method: request.method,
    target: request.uri,
    version: request.version,
    headers: request.headers.entries(),
    bodyLength: length,
    bodySha256: hash.digest('hex'),
    trailers: session.trailers?.entries() ?? [],
    bodyBytesRead: session.bodyBytesRead(),
  });
  const res = ResponseHeader.build(200);
  res.insertHeader('Content-Type', 'application/json');
  await session.respond(res, body);
}

export interface Exchange {
  /** Everything the server sent, as Latin-1. */
  data: string;
  /** Whether the server closed the connection (as opposed to the bound expiring). */
  closed: boolean;
}

/**
 * Connects, writes `pieces` (with `gapMs` between them), and collects what comes back until the server
 * closes or `boundMs` passes (a bound on hangs, not a speed assertion).
 */
export function exchange(port: number, pieces: Array<string | Buffer>, opts: { gapMs?: number; boundMs?: number; endAfterWrite?: boolean } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const bound = setTimeout(() => finish(), opts.boundMs ?? 3000);
    const finish = () => {
      clearTimeout(bound);
      socket.destroy();
      resolve({ data, closed });
    };
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const p of pieces) {
        if (socket.destroyed) return;
        socket.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfterWrite) socket.end();
    });
  });
}

/** Runs curl with `args`; resolves with stdout and stderr (never rejects on curl's exit status). */
export function curl(args: string[], input?: string | Buffer): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Status codes of every response in a raw reply, in order. */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
