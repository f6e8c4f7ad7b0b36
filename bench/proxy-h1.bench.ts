// HTTP/1.1 proxies under wrk -c50 keep-alive, in front of nginx answering `return 200`: Sluice's proxy
// against node-http-proxy (keep-alive agent), a node:http server forwarding with undici 7, a raw Node
// TCP pipe (the JS ceiling: no HTTP at all) and nginx alone (the origin, for reference). Each proxy runs
// in its own process pinned to CPU 0 (wrk gets CPU 1); rounds are interleaved; medians are reported.
//   cd bench && node --import tsx proxy-h1.bench.ts          (needs wrk and nginx on PATH; CONNS=200 for more connections)
// SIZE picks what is measured: `small` (default, GET `return 200`), `64k` and `1m` (GET static files),
// `upload-64k` and `upload-1m` (POST /upload with a body of that size, sent by a wrk Lua script; the
// origin nginx reads the whole body before it answers 200, see startNginx). For uploads the table's
// MB/s column is request-body MB/s (req/s x body size), since wrk's Transfer/sec counts only responses.
// An `errors` column counts wrk's non-2xx answers and socket errors over all rounds: it must be 0.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, peakRssMb, rssMb, waitForPort } from './lib/proc.js';
import { startNginx, startNginxProxy, startPinnedServer, wrk, writeWrkPostScript, type WrkResult } from './lib/wrk.js';

const KINDS = ['sluice', 'sluice-lean', 'undici', 'node-http-proxy', 'raw-pipe'] as const;
/**
 * `sluice-lean` is the same proxy under V8 flags that keep the heap small (`LEAN_FLAGS`): Node's
 * defaults let the young generation grow to 2 x 16 MB under sustained load.
 */
const LEAN_FLAGS = (process.env.LEAN_FLAGS ?? '--max-semi-space-size=1 --optimize-for-size').split(' ').filter(Boolean);
const SERVE_FILE = join(dirname(fileURLToPath(import.meta.url)), '.bench-out', 'proxy-h1-serve.mjs');
type Kind = (typeof KINDS)[number];

// ------------------------------------------------------------------------------------------ proxies
// Each proxy runs as plain JavaScript under plain `node` (no TypeScript loader in its memory or CPU):
// this source is written to bench/.bench-out/ and started as `node proxy-h1-serve.mjs <kind> <port>`.
const SERVE_SOURCE = `
import { createServer as createHttpServer, Agent } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
const [kind, originPort] = [process.argv[2], Number(process.argv[3])];
let server;
if (kind === 'sluice' || kind === 'sluice-lean') {
  const { HttpPeer, silentLogger } = await import('@sluice/core');
  const { httpProxyService } = await import('@sluice/proxy');
  const peer = new HttpPeer('127.0.0.1:' + originPort);
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 512 }, { newCtx: () => null, upstreamPeer: () => peer }, { logger: silentLogger, keepaliveRequestLimit: 1000000 });
  service.addTcp('127.0.0.1:0');
  void service.start(new AbortController().signal, silentLogger);
  await service.readiness.ready;
  process.stdout.write('PORT ' + service.addresses[0].port + '\\n');
} else {
  if (kind === 'undici') {
    const { Pool } = await import('undici');
    const pool = new Pool('http://127.0.0.1:' + originPort, { connections: 128 });
    const hop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer']);
    server = createHttpServer(async (req, res) => {
      try {
        const headers = {};
        for (const [k, v] of Object.entries(req.headers)) if (!hop.has(k)) headers[k] = v;
        const r = await pool.request({ path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req });
        const out = {};
        for (const [k, v] of Object.entries(r.headers)) if (!hop.has(k) && v !== undefined) out[k] = v;
        res.writeHead(r.statusCode, out);
        // A client that leaves mid-body (wrk at the end of a round) must free the pooled connection.
        res.on('close', () => { if (!res.writableFinished) r.body.destroy(); });
        for await (const chunk of r.body) {
          if (res.write(chunk)) continue;
          await new Promise((d) => {
            const done = () => { res.off('drain', done); res.off('close', done); d(); };
            res.on('drain', done);
            res.on('close', done);
          });
        }
        res.end();
      } catch {
        res.statusCode = 502;
        res.end();
      }
    });
  } else if (kind === 'node-http-proxy') {
    const httpProxy = (await import('http-proxy')).default;
    const proxy = httpProxy.createProxyServer({ target: 'http://127.0.0.1:' + originPort, agent: new Agent({ keepAlive: true, maxSockets: 128 }) });
    proxy.on('error', (_e, _req, res) => { if (res.writeHead && !res.headersSent) res.writeHead(502).end(); });
    // A client that leaves mid-body must free the agent's socket (http-proxy leaves it reading).
    proxy.on('proxyRes', (proxyRes, _req, res) => res.on('close', () => { if (!res.writableFinished) proxyRes.destroy(); }));
    server = createHttpServer((req, res) => proxy.web(req, res));
  } else {
    server = createNetServer((down) => {
      const up = connect(originPort, '127.0.0.1');
      down.pipe(up).pipe(down);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
    });
  }
  server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
}
`;

// ------------------------------------------------------------------------------------------- driver
/** `SIZE=upload-64k` or `SIZE=upload-1m`: the request body's bytes of every POST /upload. */
const UPLOAD_BYTES = ({ 'upload-64k': 64 * 1024, 'upload-1m': 1024 * 1024 } as Record<string, number>)[process.env.SIZE ?? 'small'];
/** `SIZE=small` (default, nginx `return 200`), `SIZE=64k` or `SIZE=1m` (static files), or an upload. */
const PATH = UPLOAD_BYTES ? '/upload' : (({ small: '/', '64k': '/files/64k.bin', '1m': '/files/1m.bin' } as Record<string, string>)[process.env.SIZE ?? 'small'] ?? '/');
const UPLOAD_SCRIPT = join(dirname(SERVE_FILE), `proxy-h1-${process.env.SIZE}.lua`);
/** `CONNS=200`: wrk's connections (default 50), e.g. for peak RSS at 200 connections. */
const CONNS = Number(process.env.CONNS ?? 50);


function startProxy(kind: Kind, originPort: number): Promise<{ child: ChildProcess; port: number }> {
  return startPinnedServer(SERVE_FILE, [kind, String(originPort)], kind, kind === 'sluice-lean' ? LEAN_FLAGS : []);
}

/**
 * `MODE=idle IDLE=10000`: memory per idle keep-alive connection. Opens IDLE connections to each proxy,
 * sends one request on each and keeps them open; the proxy's RSS growth over its idle baseline,
 * divided by the connections, is the cost of one. (Node's http servers drop idle connections after
 * 5 s, so the reading is taken 1 s after the last answer.)
 */
async function idleConnections(targets: Array<[string, number, number | undefined]>): Promise<void> {
  const { connect } = await import('node:net');
  const count = Number(process.env.IDLE ?? 10_000);
  const rows = [];
  for (const [kind, port, pid] of targets) {
    if (kind === 'raw-pipe' || pid === undefined) continue;
    const p = { port, child: { pid } };
    const before = rssMb(p.child.pid!);
    const sockets = [];
    let answered = 0;
    for (let i = 0; i < count; i++) {
      const socket = connect(p.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.once('data', () => answered++);
      socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
      sockets.push(socket);
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 200 && answered < count; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssMb(p.child.pid!);
    rows.push({ proxy: kind, connections: count, answered, 'RSS before MB': before.toFixed(1), 'RSS after MB': after.toFixed(1), 'KiB per connection': (((after - before) * 1024) / count).toFixed(1) });
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`${count} idle keep-alive connections, one request answered on each`);
  console.table(rows);
}


async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 3);
  const seconds = Number(process.env.SECONDS ?? 3);
  mkdirSync(dirname(SERVE_FILE), { recursive: true });
  writeFileSync(SERVE_FILE, SERVE_SOURCE);
  const script = UPLOAD_BYTES ? writeWrkPostScript(UPLOAD_SCRIPT, UPLOAD_BYTES) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nginx-'));
  const nginx = startNginx(dir);
  const proxies = new Map<Kind, { child: ChildProcess; port: number }>();
  let nginxProxy: Awaited<ReturnType<typeof startNginxProxy>> | undefined;
  // Everything started is stopped in `finally`, also when a start fails.
  try {
    await waitForPort(nginx.port);
    // `ONLY=sluice,raw-pipe` measures a subset (sluice is always included: the ratios are against it).
    const only = process.env.ONLY?.split(',');
    for (const kind of KINDS) if (!only || kind === 'sluice' || only.includes(kind)) proxies.set(kind, await startProxy(kind, nginx.port));
    // nginx as a proxy (one worker on CPU 0, like the Node proxies) is the peer; nginx alone
    // (the origin, sharing CPU 1 with wrk) is only a reference.
    if (!only || only.includes('nginx-proxy')) {
      nginxProxy = await startNginxProxy(dir, nginx.port);
      await waitForPort(nginxProxy.port);
    }
    const targets: Array<[string, number, number | undefined]> = [...[...proxies].map(([k, p]) => [k, p.port, p.child.pid] as [string, number, number | undefined])];
    if (nginxProxy) targets.push(['nginx proxy (1 worker)', nginxProxy.port, nginxProxy.workerPid]);
    targets.push(['nginx (origin alone)', nginx.port, undefined]);
    const results = new Map<string, WrkResult[]>();
    if (process.env.MODE === 'idle') return await idleConnections(targets);
    for (const [, port] of targets) wrk(port, 1, undefined, PATH, CONNS, script); // warm-up: JIT, pools, connections
    for (let round = 0; round < rounds; round++) {
      for (const [name, port, pid] of targets) {
        const list = results.get(name) ?? [];
        list.push(wrk(port, seconds, pid, PATH, CONNS, script));
        results.set(name, list);
      }
    }
    const ours = median(results.get('sluice')!.map((r) => r.rps));
    const oursCpu = median(results.get('sluice')!.map((r) => r.cpuUsPerRequest));
    const rows = targets.map(([name]) => {
      const rs = results.get(name)!;
      const rps = median(rs.map((r) => r.rps));
      const spread = ((Math.max(...rs.map((r) => r.rps)) - Math.min(...rs.map((r) => r.rps))) / rps) * 100;
      const p = proxies.get(name as Kind);
      const measured = p !== undefined || name.startsWith('nginx proxy');
      return {
        proxy: name,
        'req/s (median)': Math.round(rps),
        ...(UPLOAD_BYTES ? { 'request MB/s': ((rps * UPLOAD_BYTES) / 2 ** 20).toFixed(1) } : { 'MB/s': median(rs.map((r) => r.mbPerSecond)).toFixed(1) }),
        'spread %': spread.toFixed(1),
        'p99 ms': median(rs.map((r) => r.p99Ms)).toFixed(2),
        'CPU µs/req': measured ? median(rs.map((r) => r.cpuUsPerRequest)).toFixed(1) : '-',
        'peak RSS MB': p ? peakRssMb(p.child.pid!).toFixed(1) : '-',
        'req/s sluice/this': (ours / rps).toFixed(2),
        'CPU/req this/sluice': measured ? (median(rs.map((r) => r.cpuUsPerRequest)) / oursCpu).toFixed(2) : '-',
        errors: rs.reduce((sum, r) => sum + r.errors, 0),
      };
    });
    const what = UPLOAD_BYTES ? `POST ${PATH} with ${UPLOAD_BYTES / 1024} KiB bodies` : `GET ${PATH}`;
    console.log(`${what}: wrk -t1 -c${CONNS} -d${seconds}s keep-alive, ${rounds} interleaved rounds; proxies pinned to CPU 0, wrk and nginx to CPU 1 (shared, noisy machine)`);
    console.table(rows);
  } finally {
    for (const p of proxies.values()) p.child.kill('SIGKILL');
    nginx.stop();
    nginxProxy?.stop();
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 200);
  }
}

await main();
