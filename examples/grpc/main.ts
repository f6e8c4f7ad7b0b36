// gRPC through the proxy: a @grpc/grpc-js echo service, and the proxy in front of it speaking h2c
// both ways (prior knowledge downstream, ALPN policy 'h2' upstream). Unary, server-streaming and
// bidi calls, status codes, deadlines and metadata pass through untouched.
//   node --import tsx examples/grpc/main.ts                   gRPC service on a free port, proxy on :6190
//   LISTEN=127.0.0.1:0 node --import tsx examples/grpc/main.ts  (any free port)
import * as grpc from '@grpc/grpc-js';
import { HttpPeer, Server, formatAddress } from '@sluice/core';
import { httpProxyService, type ProxyHttp, type Session } from '@sluice/proxy';
import type { RequestHeader } from '@sluice/core';
import { EchoClient, startEchoServer } from './echo-service.js';

const { server: grpcServer, port: grpcPort } = await startEchoServer('127.0.0.1:0');

/** Sends every call to the gRPC service over HTTP/2, marking it on the way. */
class GrpcProxy implements ProxyHttp<null> {
  newCtx() {
    return null;
  }
  upstreamPeer() {
    return new HttpPeer(`127.0.0.1:${grpcPort}`, false, '', { alpn: 'h2' });
  }
  upstreamRequestFilter(_session: Session, req: RequestHeader) {
    req.insertHeader('x-forwarded-by', 'sluice');
  }
}

const server = new Server();
const proxy = httpProxyService(server.configuration, new GrpcProxy(), { name: 'grpc proxy', h2c: true }).addTcp(process.env.LISTEN ?? '127.0.0.1:6190');
server.addService(proxy);
server.shutdownSignal.addEventListener('abort', () => grpcServer.forceShutdown());

proxy.readiness.ready.then(() => {
  const address = formatAddress(proxy.addresses[0]);
  console.log(`grpc proxy on ${address} in front of the echo service on 127.0.0.1:${grpcPort}`);
  // One call through the proxy, as a client would make it.
  const client = new EchoClient(address, grpc.credentials.createInsecure());
  client.Unary({ message: 'hello through sluice' }, (error: grpc.ServiceError | null, reply: { message: string }) => {
    console.log(error ? `call failed: ${error.message}` : `unary reply: ${reply.message}`);
    client.close();
  });
  console.log('try: grpcurl -plaintext -import-path examples/grpc -proto echo.proto -d \'{"message":"hi"}\' ' + address + ' echo.Echo/Unary');
});
await server.runForever();
