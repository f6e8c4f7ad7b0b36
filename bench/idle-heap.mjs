// Live heap per idle keep-alive connection through the HTTP/1 proxy, in-process after GC: N clients
// each send one GET through the proxy (to a node:http origin in a child process) and keep their
// connection open. The figure includes the client's socket (two bare net sockets take ~2 KB).
//   cd bench && node --expose-gc idle-heap.mjs [N=2000] [snapshot-file]
// With a snapshot file, heap-snapshot-summary.mjs compares it against one taken with N=0.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';

if (process.argv[2] === '--origin') {
  const origin = createServer((req, res) => res.end('ok'));
  origin.keepAliveTimeout = 600_000;
  origin.listen(0, '127.0.0.1', () => process.send(origin.address().port));
} else {
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
  const { HttpPeer, silentLogger } = await import('@sluice/core');
  const { httpProxyService } = await import('@sluice/proxy');
  const origin = fork(new URL(import.meta.url).pathname, ['--origin']);
  const peer = new HttpPeer(`127.0.0.1:${await new Promise((r) => origin.once('message', r))}`);
  const service = httpProxyService({ max_retries: 16, upstream_keepalive_pool_size: 512 }, { newCtx: () => null, upstreamPeer: () => peer }, { logger: silentLogger });
  service.addTcp('127.0.0.1:0');
  void service.start(new AbortController().signal, silentLogger);
  await service.readiness.ready;
  const port = service.addresses[0].port;
  const n = Number(process.argv[2] ?? 2000);
  const get = () => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    return new Promise((r) => s.once('data', () => r(s)));
  };
  // Warm up (code, the upstream pool), then measure.
  for (let i = 0; i < 50; i++) (await get()).destroy();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const sockets = await Promise.all(Array.from({ length: n }, get));
  await new Promise((r) => setTimeout(r, 300));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (n > 0) console.log(`${n} idle keep-alive connections: ${((after - before) / n).toFixed(0)} B of heap each (client socket included)`);
  if (process.argv[3]) console.log('snapshot', writeHeapSnapshot(process.argv[3]));
  for (const s of sockets) s.destroy();
  origin.kill();
  process.exit(0);
}
