// A datagram protocol on Sluice: UDP echo. `LISTEN` (default 127.0.0.1:6143).
import { Server, UdpService, formatAddress } from '@sluice/core';

const server = Server.fromArgs();
server.bootstrap();
const echo = new UdpService('udp echo', {
  processDatagram(message, from, socket) {
    socket.send(message, from.port, from.address);
  },
}).addUdp(process.env.LISTEN ?? '127.0.0.1:6143', { recvBufferSize: 1 << 20 });
server.addService(echo);
echo.readiness.ready.then(() => console.log(`udp-echo listening on ${echo.addresses.map(formatAddress).join(', ')}`));
await server.runForever();
