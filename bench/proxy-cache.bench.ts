// The cache hit path: Sluice's caching proxy (ProxyHttp cache phases, MemoryStorage on TinyUFO)
// against nginx's proxy_cache (one worker process, no master), both in front of the same nginx
// origin, each pinned to CPU 0 with wrk -t1 -c50 keep-alive on CPU 1. Every measured request is a
// hit (the objects are fetched once first). Rounds are interleaved; medians reported; the primary
// figure is each cache's own CPU time per request from /proc. Then memory per cached object:
// Sluice's RSS growth over N distinct small objects (nginx keeps bodies in files, so only its
// keys_zone would compare; not measured).
//   cd bench && node --import tsx proxy-cache.bench.ts      (needs wrk and nginx; ROUNDS, SECONDS, OBJECTS)
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, rssMb, waitForPort } from './lib/proc.js';
import { startNginxWith, startPinnedServer, wrk, type WrkResult } from './lib/wrk.js';

const SERVE_FILE = join(dirname(fileURLToPath(import.meta.url)), '.bench-out', 'proxy-cache-serve.mjs');

// The caching proxy as plain JavaScript under plain `node`: `node proxy-cache-serve.mjs <originPort> [nocache]`
// (nocache: the same proxy without requestCacheFilter, forwarding every request, for reference).
// GET /.stats answers the cache's metrics (entries, bytes) for the memory measurement.
const SERVE_SOURCE = `
import { HttpPeer, ResponseHeader, silentLogger } from '@sluice/core';
import { TinyUfo } from '@sluice/cache';
import { httpProxyService, CacheKey, CacheLock, HttpCache, MemoryStorage, primaryFromRequest } from '@sluice/proxy';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const peer = new HttpPeer('127.0.0.1:' + process.argv[2]);
const cache = new HttpCache({ storage: new MemoryStorage({ cache: new TinyUfo(1024 * 1024 * 1024, 200000) }), lock: new CacheLock() });
const proxy = {
  newCtx: () => null,
  upstreamPeer: () => peer,
  async requestFilter(session) {
    if (session.request.uri !== '/.stats') return false;
    gc();
    const m = process.memoryUsage();
    const body = Buffer.from(JSON.stringify({ ...cache.metrics(), heap: m.heapUsed + m.external + m.arrayBuffers }));
    const res = ResponseHeader.build(200);
    res.insertHeader('Content-Length', body.length);
    await session.writeResponseHeader(res);
    await session.writeResponseBody(body, true);
    return true;
  },
  requestCacheFilter: process.argv[3] === 'nocache' ? undefined : () => cache,
  cacheKeyCallback: (session) => new CacheKey('', primaryFromRequest(session.request)),
};
const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 128 }, proxy, { logger: silentLogger, keepaliveRequestLimit: 1000000 });
service.addTcp('127.0.0.1:0');
void service.start(new AbortController().signal, silentLogger);
await service.readiness.ready;
process.stdout.write('PORT ' + service.addresses[0].port + '\\n');
`;

function startSluice(originPort: number, mode = 'cache'): Promise<{ child: ChildProcess; port: number }> {
  return startPinnedServer(SERVE_FILE, [String(originPort), mode], `the caching proxy (${mode})`);
}

function get(port: number, path: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 3);
  const seconds = Number(process.env.SECONDS ?? 3);
  const objects = Number(process.env.OBJECTS ?? 20_000);
  mkdirSync(dirname(SERVE_FILE), { recursive: true });
  writeFileSync(SERVE_FILE, SERVE_SOURCE);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-cache-'));
  writeFileSync(join(dir, '64k.bin'), Buffer.alloc(64 * 1024, 'a'), { mode: 0o644 });
  mkdirSync(join(dir, 'cache'), { mode: 0o777 });
  chmodSync(dir, 0o777); // nginx's worker may run as another user
  const origin = startNginxWith(dir, 'origin', 1, `server { listen 127.0.0.1:PORT;
    location = /small { add_header Cache-Control "max-age=3600"; return 200 "hello, cache\\n"; }
    location /obj/ { add_header Cache-Control "max-age=3600"; return 200 "object $uri, a small cached response body\\n"; }
    location = /64k { add_header Cache-Control "max-age=3600"; alias ${dir}/64k.bin; } }`, { masterProcess: false });
  await waitForPort(origin.port, 'nginx');
  const peer = startNginxWith(dir, 'proxy-cache', 0, `proxy_cache_path ${dir}/cache keys_zone=bench:64m max_size=1g inactive=1h use_temp_path=off;
    upstream origin { server 127.0.0.1:${origin.port}; keepalive 64; }
    server { listen 127.0.0.1:PORT; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_cache bench; } }`, { masterProcess: false });
  await waitForPort(peer.port, 'nginx');
  const sluice = await startSluice(origin.port);
  const plain = await startSluice(origin.port, 'nocache');
  const targets: Array<[string, number, number | undefined]> = [['sluice', sluice.port, sluice.child.pid], ['nginx proxy_cache', peer.port, peer.child.pid], ['sluice, no cache', plain.port, plain.child.pid]];
  try {
    const table = [];
    // MODE=memory measures only the memory per cached object.
    for (const [label, path] of process.env.MODE === 'memory' ? [] : [['small (13 B)', '/small'], ['64 KiB', '/64k']] as const) {
      const results = new Map<string, WrkResult[]>();
      for (const [, port, pid] of targets) wrk(port, 1, pid, path); // fill the caches, warm the JIT
      for (let round = 0; round < rounds; round++) {
        for (const [name, port, pid] of targets) {
          const list = results.get(name) ?? [];
          list.push(wrk(port, seconds, pid, path));
          results.set(name, list);
        }
      }
      const ours = results.get('sluice')!;
      const theirs = results.get('nginx proxy_cache')!;
      const uncached = results.get('sluice, no cache')!;
      const spread = (rs: WrkResult[]) => (((Math.max(...rs.map((r) => r.rps)) - Math.min(...rs.map((r) => r.rps))) / median(rs.map((r) => r.rps))) * 100).toFixed(0);
      table.push({
        object: label,
        'sluice req/s': Math.round(median(ours.map((r) => r.rps))),
        'nginx req/s': Math.round(median(theirs.map((r) => r.rps))),
        'req/s ratio': (median(ours.map((r) => r.rps)) / median(theirs.map((r) => r.rps))).toFixed(2),
        'sluice CPU µs/req': median(ours.map((r) => r.cpuUsPerRequest)).toFixed(1),
        'nginx CPU µs/req': median(theirs.map((r) => r.cpuUsPerRequest)).toFixed(1),
        'CPU ratio (nginx/sluice)': (median(theirs.map((r) => r.cpuUsPerRequest)) / median(ours.map((r) => r.cpuUsPerRequest))).toFixed(2),
        'sluice uncached CPU µs/req': median(uncached.map((r) => r.cpuUsPerRequest)).toFixed(1),
        'sluice p99 ms': median(ours.map((r) => r.p99Ms)).toFixed(2),
        'nginx p99 ms': median(theirs.map((r) => r.p99Ms)).toFixed(2),
        'spread % (s/n)': `${spread(ours)}/${spread(theirs)}`,
      });
    }
    if (table.length > 0) console.log(`cache hits, wrk -t1 -c50, ${rounds} interleaved rounds of ${seconds} s, medians; load average ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
    if (table.length > 0) console.table(table);

    // Memory per cached object: N distinct small objects through the caching proxy.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    await new Promise((r) => setTimeout(r, 500));
    const stats0 = JSON.parse(await get(sluice.port, '/.stats', agent)) as { entries: number; bytes: number; heap: number };
    const before = rssMb(sluice.child.pid!);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < objects) await get(sluice.port, `/obj/${next++}`, agent);
    }));
    await new Promise((r) => setTimeout(r, 500));
    const after = rssMb(sluice.child.pid!);
    const stats = JSON.parse(await get(sluice.port, '/.stats', agent)) as { entries: number; bytes: number; heap: number };
    agent.destroy();
    const stored = stats.entries - stats0.entries;
    console.log(`memory per cached object (~45 B body, ${stored} objects stored): after a GC, heap + external +${((stats.heap - stats0.heap) / stored).toFixed(0)} B per object; ` +
      `RSS +${(after - before).toFixed(1)} MB (${(((after - before) * 1024 * 1024) / stored).toFixed(0)} B per object, garbage included); storage weight ${((stats.bytes - stats0.bytes) / stored).toFixed(0)} B per object`);
  } finally {
    sluice.child.kill('SIGTERM');
    plain.child.kill('SIGTERM');
    peer.child.kill('SIGTERM');
    origin.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
