// A rate-limited HTTP service: each client (its `appid` header, else its address) may make
// RATE_LIMIT requests per second (default 1); more get 429 with X-Rate-Limit-* headers.
//   node --import tsx examples/rate-limiter/main.ts
//   curl -i localhost:8082 -H 'appid: 1'   # twice within a second: the second is 429
import { createRateLimitedServer } from './app.js';

const port = Number(process.env.PORT ?? 8082);
const limit = Number(process.env.RATE_LIMIT ?? 1);

const server = createRateLimitedServer({ limit });
server.listen(port, () => {
  console.log(`rate limiter on http://localhost:${port}: ${limit} request(s) per second per client`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
