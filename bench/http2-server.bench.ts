// Hello-world HTTP/2 (h2c) server throughput under h2load on loopback: a server on @sluice/http2
// against one on Node's `node:http2` (nghttp2 in C++), each in its own process (this file started
// again with `--serve ours|node`). h2load runs 10 connections x 100 concurrent streams for 3 s
// (after a 1 s warm-up) against each in turn, 3 rounds interleaved; the table shows median
// requests/s, the spread (min-max) and each server's CPU time per request (from /proc). Then each
// server holds 1000 open streams (requests whose bodies never end) and reports the heap and RSS
// growth per open stream after a GC. The machine's 2 cores are shared with other work and h2load
// itself needs a core: treat every figure as noisy.
// Needs h2load (apt-get install nghttp2-client). Run: cd bench && node --expose-gc --import tsx http2-server.bench.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ResponseHeader, Stream } from '@sluice/core';
import { serveHttp2 } from '@sluice/http2';
import { cpuMs, median } from './lib/proc.js';

const BODY = Buffer.from('Hello, World!');
const OPEN_STREAMS = 1000;
const held: unknown[] = [];

function report(port: number): void {
  console.log(`PORT ${port}`);
  process.on('message', (message) => {
    if (message !== 'memory') return;
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send!({ heapUsed: m.heapUsed, rss: m.rss, external: m.external, held: held.length });
  });
}

function serveOurs(): void {
  const server = createNetServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    void serveHttp2(
      new Stream(socket),
      (stream) => {
        if (stream.request.path === '/hold') {
          held.push(stream); // never answered: an open stream
          return new Promise<void>(() => {});
        }
        const res = new ResponseHeader(200, '2');
        res.headers.appendUnchecked('content-type', 'text/plain');
        res.headers.appendUnchecked('content-length', '13');
        return stream.respond(res, BODY);
      },
      { maxConcurrentStreams: OPEN_STREAMS + 10 },
    );
  });
  server.listen(0, '127.0.0.1', () => report((server.address() as AddressInfo).port));
}

function serveNode(): void {
  const server = http2.createServer({ settings: { maxConcurrentStreams: OPEN_STREAMS + 10 } });
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/hold') {
      held.push(stream);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '13' });
    stream.end(BODY);
  });
  server.listen(0, '127.0.0.1', () => report((server.address() as AddressInfo).port));
}

interface Child {
  child: ChildProcess;
  port: number;
}

function start(which: string): Promise<Child> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', which], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${which} server exited with ${code}`)));
  });
}


function h2load(port: number): { rps: number; requests: number } {
  const out = execFileSync('h2load', ['-c', '10', '-m', '100', '-D', '3', '--warm-up-time=1', '-t', '1', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const requests = Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)?.[1]);
  const failed = Number(/(\d+) failed/.exec(out)?.[1]);
  if (!(rps > 0) || failed > 0) throw new Error(`h2load failed:\n${out}`);
  return { rps, requests };
}

function memory(child: ChildProcess): Promise<{ heapUsed: number; rss: number; external: number; held: number }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { heapUsed: number; rss: number; external: number; held: number }));
    child.send('memory');
  });
}

/** Opens OPEN_STREAMS streams that stay open; returns heap and RSS growth per stream. */
async function perStream(server: Child): Promise<{ heap: number; rss: number }> {
  const before = await memory(server.child);
  const client = http2.connect(`http://127.0.0.1:${server.port}`, { settings: { initialWindowSize: 65535 } });
  await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
  const requests = [];
  for (let i = 0; i < OPEN_STREAMS; i++) {
    const req = client.request({ ':method': 'POST', ':path': '/hold', 'x-request': String(i) });
    req.on('error', () => {});
    req.write('x'); // a body that never ends
    requests.push(req);
  }
  let after = await memory(server.child);
  for (let tries = 0; after.held < OPEN_STREAMS && tries < 100; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await memory(server.child);
  }
  if (after.held < OPEN_STREAMS) throw new Error(`only ${after.held} streams opened`);
  client.destroy();
  return { heap: (after.heapUsed - before.heapUsed) / OPEN_STREAMS, rss: (after.rss - before.rss) / OPEN_STREAMS };
}


async function main(): Promise<void> {
  const rounds = 3;
  const results: Record<string, { rps: number[]; cpuPerRequest: number[] }> = { ours: { rps: [], cpuPerRequest: [] }, node: { rps: [], cpuPerRequest: [] } };
  const servers: Record<string, Child> = { ours: await start('ours'), node: await start('node') };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? ['ours', 'node'] : ['node', 'ours']) {
        const { child, port } = servers[which];
        const before = cpuMs(child.pid!);
        const { rps, requests } = h2load(port);
        results[which].rps.push(rps);
        results[which].cpuPerRequest.push(((cpuMs(child.pid!) - before) / requests) * 1000); // µs
      }
    }
    const ours = results.ours;
    const node = results.node;
    const ratio = ours.rps.map((r, i) => r / node.rps[i]);
    console.log(`h2load -c10 -m100 -D 3 (1 thread), ${rounds} rounds interleaved; medians:`);
    console.table([
      {
        server: '@sluice/http2',
        'req/s (median)': Math.round(median(ours.rps)),
        'req/s min-max': `${Math.round(Math.min(...ours.rps))}-${Math.round(Math.max(...ours.rps))}`,
        'CPU µs/req': median(ours.cpuPerRequest).toFixed(1),
        'ratio ours/node': (median(ours.rps) / median(node.rps)).toFixed(2),
      },
      {
        server: 'node:http2',
        'req/s (median)': Math.round(median(node.rps)),
        'req/s min-max': `${Math.round(Math.min(...node.rps))}-${Math.round(Math.max(...node.rps))}`,
        'CPU µs/req': median(node.cpuPerRequest).toFixed(1),
        'ratio ours/node': '1.00',
      },
    ]);
    console.log(`per-round req/s ratios: ${ratio.map((r) => r.toFixed(2)).join(', ')}; CPU per request ratio node/ours: ${(median(node.cpuPerRequest) / median(ours.cpuPerRequest)).toFixed(2)}`);
    const memoryOurs = await perStream(servers.ours);
    const memoryNode = await perStream(servers.node);
    console.log(`memory per open stream (${OPEN_STREAMS} streams, after GC):`);
    console.table([
      { server: '@sluice/http2', 'heap bytes/stream': Math.round(memoryOurs.heap), 'RSS bytes/stream': Math.round(memoryOurs.rss) },
      { server: 'node:http2', 'heap bytes/stream': Math.round(memoryNode.heap), 'RSS bytes/stream': Math.round(memoryNode.rss) },
    ]);
  } finally {
    for (const s of Object.values(servers)) s.child.kill();
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) {
  if (process.argv[serveAt + 1] === 'ours') serveOurs();
  else serveNode();
} else {
  await main();
}
