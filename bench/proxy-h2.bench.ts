// HTTP/2 over TLS downstream under h2load -c50 -m10, in front of nginx answering `return 200` over
// HTTP/1.1: Sluice's proxy (ALPN h2) against a node:http2 secure server forwarding with undici 7; and
// Sluice speaking h2c upstream to the same nginx (one shared HTTP/2 connection, 128 streams at most).
// Each proxy runs in its own process pinned to CPU 0 (h2load and nginx share CPU 1); rounds are
// interleaved; medians are reported with the spread.
//   cd bench && node --import tsx proxy-h2.bench.ts        (needs h2load, nginx and openssl on PATH)
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs, median, peakRssMb, waitForPort } from './lib/proc.js';
import { startNginxWith, startPinnedServer, type NginxProcess } from './lib/wrk.js';

const KINDS = ['sluice', 'node:http2 + undici', 'sluice, h2c upstream'] as const;
type Kind = (typeof KINDS)[number];
const SERVE_FILE = join(dirname(fileURLToPath(import.meta.url)), '.bench-out', 'proxy-h2-serve.mjs');

// Each proxy runs as plain JavaScript under plain `node`: this source is written to bench/.bench-out/
// and started as `node proxy-h2-serve.mjs <kind> <originPort> <cert> <key>`.
const SERVE_SOURCE = `
import { readFileSync } from 'node:fs';
const [kind, originPort, certFile, keyFile] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
if (kind.startsWith('sluice')) {
  const { HttpPeer, silentLogger } = await import('@sluice/core');
  const { httpProxyService } = await import('@sluice/proxy');
  const { TlsSettings } = await import('@sluice/tls');
  // The h2c kind gets nginx's HTTP/2 port (the next one up).
  const peer = kind === 'sluice' ? new HttpPeer('127.0.0.1:' + originPort) : new HttpPeer('127.0.0.1:' + (originPort + 1), false, '', { alpn: 'h2' });
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 512 }, { newCtx: () => null, upstreamPeer: () => peer }, { logger: silentLogger, alpnH2: true, http2: { maxConcurrentStreams: 128 } });
  service.addTls('127.0.0.1:0', TlsSettings.intermediate(certFile, keyFile));
  void service.start(new AbortController().signal, silentLogger);
  await service.readiness.ready;
  process.stdout.write('PORT ' + service.addresses[0].port + '\\n');
} else {
  const { createSecureServer } = await import('node:http2');
  const { Pool } = await import('undici');
  const pool = new Pool('http://127.0.0.1:' + originPort, { connections: 128 });
  const drop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer', 'host']);
  const server = createSecureServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), settings: { maxConcurrentStreams: 128 } }, async (req, res) => {
    try {
      const headers = { host: req.headers[':authority'] };
      for (const [k, v] of Object.entries(req.headers)) if (k[0] !== ':' && !drop.has(k)) headers[k] = v;
      const r = await pool.request({ path: req.url, method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req });
      const out = {};
      for (const [k, v] of Object.entries(r.headers)) if (!drop.has(k) && v !== undefined) out[k] = v;
      res.writeHead(r.statusCode, out);
      for await (const chunk of r.body) if (!res.write(chunk)) await new Promise((d) => res.once('drain', d));
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
}
`;

interface H2loadResult {
  rps: number;
  succeeded: number;
  total: number;
  /** CPU time (user + system) the proxy process spent per request, in microseconds. */
  cpuUsPerRequest: number;
}


/**
 * One h2load run of `requests` requests. By count, not duration: h2load's -D stops its clients with
 * streams in flight and then waits for connections that a proxy keeps open until those streams are
 * answered, which hung some runs against a fresh proxy (see the proxy README).
 */
function h2load(port: number, requests: number, pid?: number): H2loadResult {
  const before = cpuMs(pid);
  let out: string;
  try {
    // Bounded: h2load waits for every request in flight, so a proxy that lost one would hang the run.
    out = execFileSync('taskset', ['-c', '1', 'h2load', '-c50', '-m10', '-t1', `-n${requests}`, `https://127.0.0.1:${port}/`], { encoding: 'utf8', timeout: 60_000 });
  } catch (e) {
    process.stderr.write(`h2load on :${port} did not finish: ${(e as Error).message}\n`);
    return { rps: NaN, succeeded: 0, total: 0, cpuUsPerRequest: NaN };
  }
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const m = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded/.exec(out);
  const total = Number(m?.[1] ?? NaN);
  const succeeded = Number(m?.[2] ?? NaN);
  if (!(succeeded > 0) || succeeded < total * 0.99) process.stderr.write(`h2load on :${port} saw failures:\n${out}\n`);
  return { rps, succeeded, total, cpuUsPerRequest: ((cpuMs(pid) - before) * 1000) / succeeded };
}

/** nginx answering `return 200` over HTTP/1.1 on its port and over h2c on the next (see startNginxWith). */
function startNginx(dir: string): NginxProcess {
  return startNginxWith(
    dir,
    'nginx',
    1,
    `server { listen 127.0.0.1:PORT; location / { return 200 "ok\\n"; } }
  server { listen 127.0.0.1:PORT2 http2; http2_max_concurrent_streams 128; location / { return 200 "ok\\n"; } }`,
  );
}

function startProxy(kind: Kind, originPort: number, certFile: string, keyFile: string): Promise<{ child: ChildProcess; port: number }> {
  return startPinnedServer(SERVE_FILE, [kind, String(originPort), certFile, keyFile], kind);
}



async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 3);
  const requests = Number(process.env.REQUESTS ?? 80_000);
  mkdirSync(dirname(SERVE_FILE), { recursive: true });
  writeFileSync(SERVE_FILE, SERVE_SOURCE);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-h2-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const nginx = startNginx(dir);
  await waitForPort(nginx.port);
  const proxies = new Map<Kind, { child: ChildProcess; port: number }>();
  for (const kind of KINDS) proxies.set(kind, await startProxy(kind, nginx.port, certFile, keyFile));
  const results = new Map<Kind, H2loadResult[]>();
  try {
    for (const p of proxies.values()) h2load(p.port, 20_000); // warm-up: JIT, TLS, pools
    for (let round = 0; round < rounds; round++) {
      for (const [kind, p] of proxies) {
        const list = results.get(kind) ?? [];
        list.push(h2load(p.port, requests, p.child.pid));
        results.set(kind, list);
      }
    }
    const ours = median(results.get('sluice')!.map((r) => r.rps));
    const oursCpu = median(results.get('sluice')!.map((r) => r.cpuUsPerRequest));
    const rows = [...proxies].map(([kind, p]) => {
      const rs = results.get(kind)!;
      const rps = median(rs.map((r) => r.rps));
      const cpu = median(rs.map((r) => r.cpuUsPerRequest));
      return {
        proxy: kind,
        'req/s (median)': Math.round(rps),
        'spread %': (((Math.max(...rs.map((r) => r.rps)) - Math.min(...rs.map((r) => r.rps))) / rps) * 100).toFixed(1),
        'CPU µs/req': cpu.toFixed(1),
        'peak RSS MB': peakRssMb(p.child.pid!).toFixed(1),
        'req/s sluice/this': (ours / rps).toFixed(2),
        'CPU/req this/sluice': (cpu / oursCpu).toFixed(2),
      };
    });
    console.log(`GET / over TLS (ALPN h2): h2load -c50 -m10 -t1 -n${requests}, ${rounds} interleaved rounds; proxies pinned to CPU 0, h2load and nginx to CPU 1 (shared, noisy machine)`);
    console.table(rows);
  } finally {
    for (const p of proxies.values()) p.child.kill('SIGKILL');
    nginx.stop();
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 200);
  }
}

await main();
