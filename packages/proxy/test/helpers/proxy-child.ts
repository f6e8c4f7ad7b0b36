// A proxy in its own process (so its memory can be measured alone): forwards to 127.0.0.1:<argv[2]>,
// tells the parent its port, and answers "rss" with the peak RSS sampled every 20 ms.
import { silentLogger } from '@sluice/core';
import { peerOf, startProxy } from './net.js';

const upstream = Number(process.argv[2]);
const proxy = await startProxy({ newCtx: () => null, upstreamPeer: () => peerOf(upstream) }, { logger: silentLogger });
let peak = process.memoryUsage().rss;
const baseline = peak;
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  if (rss > peak) peak = rss;
}, 20);
process.send!({ port: proxy.port, baseline });
process.on('message', async (m) => {
  if (m === 'rss') process.send!({ peak, baseline });
  if (m === 'stop') {
    clearInterval(sampler);
    await proxy.close();
    process.disconnect();
  }
});
