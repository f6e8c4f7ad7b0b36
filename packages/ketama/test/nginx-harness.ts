// Runs a real nginx for the compatibility tests: its own temp prefix, config, error log and pid file,
// one process in the foreground (`daemon off; master_process off;`), a front server on a free
// 127.0.0.1 port that proxies to an upstream using `hash <key> consistent`. Backends are loopback TCP
// servers that answer with the nginx `server` text they stand for, so the body names nginx's choice.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Continuum } from '../src/index.js';

/** The nginx binary: $NGINX_BIN when set, else the first `nginx` on PATH or in the usual sbin folders. */
export function findNginx(): string | undefined {
  const candidates: string[] = [];
  if (process.env.NGINX_BIN) candidates.push(process.env.NGINX_BIN);
  else {
    const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']);
    for (const dir of dirs) if (dir) candidates.push(join(dir, 'nginx'));
  }
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** A loopback backend: `server` is the text for nginx's upstream block (and for our Continuum). */
export interface Backend {
  server: string;
  weight: number;
  tcp: Server;
  sockets: Set<Socket>;
}

// The backends speak just enough HTTP/1.1 by hand (answer each request head with the server text) so
// that any URI bytes nginx forwards, including raw bytes 0x80-0xFF that node:http refuses, get through.
function answerRequests(backend: Backend, socket: Socket): void {
  let pending = '';
  socket.setEncoding('latin1');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
      pending = pending.slice(end + 4);
      const body = backend.server;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  });
}

/** Starts a backend on `host` and `port` (default 0: any), or a unix socket path, answering with its server text. */
export async function startBackend(listenOn: { host: string; port?: number } | { path: string }, weight: number): Promise<Backend> {
  const backend: Backend = { server: '', weight, tcp: createTcpServer(), sockets: new Set() };
  backend.tcp.on('connection', (socket) => {
    backend.sockets.add(socket);
    socket.once('close', () => backend.sockets.delete(socket));
    answerRequests(backend, socket);
  });
  await new Promise<void>((resolve, reject) => {
    backend.tcp.once('error', reject);
    if ('path' in listenOn) backend.tcp.listen(listenOn.path, resolve);
    else backend.tcp.listen(listenOn.port ?? 0, listenOn.host, resolve);
  });
  if ('path' in listenOn) backend.server = `unix:${listenOn.path}`;
  else {
    const { port } = backend.tcp.address() as AddressInfo;
    backend.server = listenOn.host.includes(':') ? `[${listenOn.host}]:${port}` : `${listenOn.host}:${port}`;
  }
  return backend;
}

/** Closes a backend and the connections nginx keeps open to it. */
export function stopBackend(backend: Backend): Promise<void> {
  return new Promise((resolve) => {
    backend.tcp.close(() => resolve());
    for (const socket of backend.sockets) socket.destroy();
  });
}

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A running nginx; `stop()` ends it and removes its temp prefix. */
export interface Nginx {
  port: number;
  prefix: string;
  stop(): Promise<void>;
  /** GETs `path` (sent as latin1 bytes, as Node writes request lines) and returns the body. */
  get(path: string): Promise<string>;
}

/** Starts nginx with `hash <key> consistent` over the given upstream `server` lines. */
export async function startNginx(nginx: string, servers: string[], key = '$request_uri'): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'sluice-ketama-nginx-'));
  const errorLog = join(prefix, 'error.log');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;
master_process off;
worker_processes 1;
error_log ${errorLog} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  upstream ring {
    hash ${key} consistent;
${servers.map((s) => `    server ${s} max_fails=0;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ring;
      proxy_next_upstream off;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
    );
    const child: ChildProcess = spawn(nginx, ['-p', prefix, '-e', errorLog, '-c', conf], { stdio: 'ignore' });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    child.once('error', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 25));
    if (!exited && Date.now() < deadline) {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      return {
        port,
        prefix,
        get: (path) =>
          new Promise((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path, agent, timeout: 5_000 }, (res) => {
              let body = '';
              res.setEncoding('latin1');
              res.on('data', (chunk: string) => (body += chunk));
              res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`nginx answered ${res.statusCode} to ${path}: ${body.slice(0, 200)}`))));
            });
            req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
            req.on('error', reject);
            req.end();
          }),
        async stop() {
          agent.destroy();
          if (!exited) {
            child.kill('SIGTERM');
            await exit;
          }
          rmSync(prefix, { recursive: true, force: true });
        },
      };
    }
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
    let log = '';
    try {
      log = readFileSync(errorLog, 'utf8');
    } catch {
      // no log written
    }
    if (attempt < 3 && /Address already in use/.test(log)) continue;
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${log.trim().slice(-2000) || 'no error log'}`);
  }
}

/** Random request URIs: path segments, percent escapes, queries, and raw bytes 0x80-0xFF. */
export function randomUris(count: number, seed: number, maxSegmentLength = 14): string[] {
  let state = seed;
  // A 32-bit LCG; its high bits, since the low ones repeat with short periods.
  const next = (n: number) => Math.floor(((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * n);
  const plain = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~';
  const uris: string[] = [];
  for (let i = 0; i < count; i++) {
    let uri = '';
    const segments = 1 + next(5);
    for (let s = 0; s < segments; s++) {
      uri += '/';
      const length = next(maxSegmentLength);
      for (let c = 0; c < length; c++) {
        const pick = next(40);
        if (pick === 0) uri += `%${(1 + next(254)).toString(16).padStart(2, '0').toUpperCase()}`;
        else if (pick === 1) uri += String.fromCharCode(0x80 + next(128));
        else if (pick === 2) uri += "!$&'()*+,;=:@"[next(13)];
        else uri += plain[next(plain.length)];
      }
    }
    if (next(3) === 0) uri += `?id=${next(1_000_000)}&q=${plain[next(plain.length)]}`;
    uris.push(uri);
  }
  return uris;
}

/** Node writes the request line as latin1, so these bytes are the $request_uri nginx hashed. */
export const wireBytes = (uri: string) => Buffer.from(uri, 'latin1');

/** Sends every URI through nginx (8 at a time); lists each one where `ring.node()` names another backend. */
export async function compare(nginx: Nginx, ring: Continuum<string>, uris: string[]): Promise<string[]> {
  const mismatches: string[] = [];
  let next = 0;
  async function worker() {
    while (next < uris.length) {
      const uri = uris[next++];
      const chosen = await nginx.get(uri);
      const ours = /^[\x00-\x7f]*$/.test(uri) ? ring.node(uri) : ring.node(wireBytes(uri));
      if (ours !== chosen) mismatches.push(`${JSON.stringify(uri)}: nginx chose ${chosen}, we chose ${String(ours)}`);
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  return mismatches;
}
