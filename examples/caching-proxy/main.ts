// A caching reverse proxy that honours the origin's headers (RFC 9111), on ProxyHttp's cache phases.
//   node --import tsx examples/caching-proxy/main.ts                       an embedded origin, :6190
//   ... main.ts --upstream 127.0.0.1:8000                                  your own origin
//   ... main.ts --listen 0.0.0.0:8080
// Core's flags pass through: -c conf.yaml, -t, -d, -u.
import { parseArgs } from 'node:util';
import { Server, formatAddress } from '@sluice/core';
import { httpProxyService } from '@sluice/proxy';
import { CachingProxy, STATS_PATH, startOrigin } from './app.js';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:6190' },
    conf: { type: 'string', short: 'c' },
    test: { type: 'boolean', short: 't' },
    daemon: { type: 'boolean', short: 'd' },
    upgrade: { type: 'boolean', short: 'u' },
  },
});

const server = Server.fromArgs([...(values.conf ? ['-c', values.conf] : []), ...(values.test ? ['-t'] : []), ...(values.daemon ? ['-d'] : []), ...(values.upgrade ? ['-u'] : [])]);
server.bootstrap();

let upstream = values.upstream;
if (upstream === undefined) {
  const origin = await startOrigin();
  upstream = origin.address;
  server.shutdownSignal.addEventListener('abort', () => origin.server.close());
  console.log(`embedded origin: ${upstream}`);
}

const proxy = httpProxyService(server.configuration, new CachingProxy(upstream), { name: 'caching proxy' }).addTcp(values.listen);
server.addService(proxy);

proxy.readiness.ready.then(() => {
  const address = formatAddress(proxy.addresses[0]);
  console.log(`caching proxy on http://${address} in front of ${upstream}`);
  console.log('try:');
  console.log(`  curl -i http://${address}/            # twice: Cache-Status says miss, then hit; the same origin stamp`);
  console.log(`  curl -i http://${address}/swr         # after 2 s: served stale at once, refreshed behind it`);
  console.log(`  curl -i -X PURGE http://${address}/   # removes it (200, then 404)`);
  console.log(`  curl -s http://${address}${STATS_PATH}`);
});
await server.runForever();
