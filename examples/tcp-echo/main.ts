// A custom TCP protocol on Sluice: an echo server. `LISTEN` (default 127.0.0.1:6142) and the usual
// flags: -c conf.yaml, -t (test the config), -d (daemon). SIGTERM drains, SIGINT stops at once.
import { ListeningService, Server, formatAddress } from '@sluice/core';
import { EchoApp } from './app.js';

const server = Server.fromArgs();
server.bootstrap();
const echo = new ListeningService('tcp echo', new EchoApp())
  .addTcp(process.env.LISTEN ?? '127.0.0.1:6142')
  .addUds(process.env.LISTEN_UDS ?? `/tmp/sluice-echo-${process.pid}.sock`, 0o660);
server.addService(echo);
echo.readiness.ready.then(() => console.log(`tcp-echo listening on ${echo.addresses.map(formatAddress).join(', ')}`));
await server.runForever();
