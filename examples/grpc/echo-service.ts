// The gRPC echo service of the example (and of the proxy's gRPC tests), with @grpc/grpc-js.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface EchoRequest {
  message: string;
  failCode?: number;
  delayMs?: number;
}
export interface StreamRequest {
  message: string;
  count: number;
  failAfter?: number;
}
export interface EchoReply {
  message: string;
  index: number;
}

const definition = protoLoader.loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)), { keepCase: false, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as { echo: { Echo: grpc.ServiceClientConstructor } };

/** The Echo client constructor (`new EchoClient(address, credentials)`). */
export const EchoClient = loaded.echo.Echo;

/**
 * Echoes `x-trace` request metadata back in the response head, and every `x-` entry (binary `-bin`
 * ones included) back in the trailers as `echo-<name>`.
 */
function traced(call: { metadata: grpc.Metadata; sendMetadata(m: grpc.Metadata): void }): grpc.Metadata {
  const trailers = new grpc.Metadata();
  const trace = call.metadata.get('x-trace')[0];
  if (trace !== undefined) {
    const head = new grpc.Metadata();
    head.set('x-trace-echo', String(trace));
    call.sendMetadata(head);
  }
  for (const [name, values] of Object.entries(call.metadata.getMap())) {
    if (name.startsWith('x-')) trailers.set(`echo-${name}`, values);
  }
  return trailers;
}

const implementation: grpc.UntypedServiceImplementation = {
  Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
    const req = call.request;
    const answer = (): void => {
      if (req.failCode) return callback({ code: req.failCode, details: `failed as asked: ${req.message}` });
      const trailers = traced(call);
      callback(null, { message: req.message, index: 0 }, trailers);
    };
    if (req.delayMs) setTimeout(answer, req.delayMs);
    else answer();
  },
  ServerStream(call: grpc.ServerWritableStream<StreamRequest, EchoReply>) {
    const req = call.request;
    const trailers = traced(call);
    for (let i = 0; i < req.count; i++) {
      if (req.failAfter && i === req.failAfter) {
        call.emit('error', { code: grpc.status.INTERNAL, details: `stopped after ${i}` });
        return;
      }
      call.write({ message: `${req.message} ${i}`, index: i });
    }
    call.end(trailers);
  },
  Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
    let index = 0;
    const trailers = traced(call);
    call.on('data', (req: EchoRequest) => call.write({ message: req.message.toUpperCase(), index: index++ }));
    call.on('end', () => call.end(trailers));
  },
};

/** Starts the echo service on `address` (e.g. 127.0.0.1:0) without TLS; resolves with the server and its port. */
export function startEchoServer(address: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(EchoClient.service, implementation);
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve({ server, port })));
  });
}
