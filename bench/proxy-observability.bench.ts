// What the proxy's built-in observability costs per request: the same Sluice proxy in front of nginx
// (`return 200`) under wrk -c50 keep-alive, without an observer, with ProxyObservability's metrics, and
// with metrics plus an access log line per request written to /dev/null (pino serialization and a
// write). Proxies pinned to CPU 0, wrk and nginx to CPU 1; rounds interleaved (each starting with the
// next mode); medians reported. The primary figure is the proxy's CPU time per request, from /proc.
//   cd bench && node --import tsx proxy-observability.bench.ts          (needs wrk and nginx on PATH)
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, waitForPort } from './lib/proc.js';
import { startNginx, startPinnedServer, wrk, type WrkResult } from './lib/wrk.js';

const MODES = ['no observer', 'metrics', 'metrics + access log'] as const;
const SERVE_FILE = join(dirname(fileURLToPath(import.meta.url)), '.bench-out', 'proxy-observability-serve.mjs');

// Plain JavaScript under plain node (no TypeScript loader in the measured process).
const SERVE_SOURCE = `
import { createWriteStream } from 'node:fs';
const [mode, originPort] = [process.argv[2], Number(process.argv[3])];
const { HttpPeer, silentLogger } = await import('@sluice/core');
const { httpProxyService } = await import('@sluice/proxy');
const { AccessLog, ProxyObservability, SluiceMetrics } = await import('@sluice/observability');
const peer = new HttpPeer('127.0.0.1:' + originPort);
let observe;
if (mode !== 'no observer') {
  const accessLog = mode === 'metrics + access log' ? new AccessLog(createWriteStream('/dev/null')) : undefined;
  observe = new ProxyObservability({ metrics: new SluiceMetrics(), accessLog });
}
const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 128 }, { newCtx: () => null, upstreamPeer: () => peer }, { logger: silentLogger, keepaliveRequestLimit: 1000000, observe });
service.addTcp('127.0.0.1:0');
void service.start(new AbortController().signal, silentLogger);
await service.readiness.ready;
process.stdout.write('PORT ' + service.addresses[0].port + '\\n');
`;

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 5);
  const seconds = Number(process.env.SECONDS ?? 3);
  mkdirSync(dirname(SERVE_FILE), { recursive: true });
  writeFileSync(SERVE_FILE, SERVE_SOURCE);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nginx-'));
  const nginx = startNginx(dir);
  const proxies = new Map<string, { child: ChildProcess; port: number }>();
  try {
    await waitForPort(nginx.port, 'nginx');
    for (const mode of MODES) proxies.set(mode, await startPinnedServer(SERVE_FILE, [mode, String(nginx.port)], mode));
    for (const p of proxies.values()) wrk(p.port, 1); // warm-up: JIT, pools, connections
    const results = new Map<string, WrkResult[]>(MODES.map((m) => [m, []]));
    // Each round starts with the next mode, so no mode always runs first (or last) in a round.
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(round + k) % MODES.length];
        const p = proxies.get(mode)!;
        results.get(mode)!.push(wrk(p.port, seconds, p.child.pid));
      }
    }
    const baseCpu = median(results.get('no observer')!.map((r) => r.cpuUsPerRequest));
    const baseRps = median(results.get('no observer')!.map((r) => r.rps));
    const rows = MODES.map((mode) => {
      const rs = results.get(mode)!;
      const cpu = rs.map((r) => r.cpuUsPerRequest);
      const cpuMedian = median(cpu);
      return {
        proxy: mode,
        'CPU µs/req (median)': cpuMedian.toFixed(2),
        'CPU min–max': `${Math.min(...cpu).toFixed(1)}–${Math.max(...cpu).toFixed(1)}`,
        'CPU/req vs none': (cpuMedian / baseCpu).toFixed(3),
        'added µs/req': (cpuMedian - baseCpu).toFixed(2),
        'req/s (median)': Math.round(median(rs.map((r) => r.rps))),
        'req/s vs none': (median(rs.map((r) => r.rps)) / baseRps).toFixed(2),
      };
    });
    console.log(`GET /: wrk -t1 -c50 -d${seconds}s keep-alive, ${rounds} interleaved rounds; proxies pinned to CPU 0, wrk and nginx to CPU 1 (shared, noisy machine)`);
    console.table(rows);
  } finally {
    for (const p of proxies.values()) p.child.kill('SIGKILL');
    nginx.stop();
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 200);
  }
}

await main();
