// gRPC end to end through the proxy with @grpc/grpc-js on both sides (h2c downstream, h2 upstream):
// unary, server and bidi streaming, error statuses (trailers-only and after data), deadlines
// (grpc-timeout) and metadata, over cleartext and TLS with ALPN.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import type { RequestHeader } from '@sluice/core';
import type { ProxyHttp, Session } from '../src/index.js';
import { peerOf, startProxy, type RunningProxy } from './helpers/net.js';
import { makeCert, startTlsProxy, type TestCert } from './helpers/h2.js';
import { EchoClient, startEchoServer, type EchoReply } from '../../../examples/grpc/echo-service.js';

interface Ctx {
  grpcServer: grpc.Server;
  grpcPort: number;
  proxy: RunningProxy;
  tls: RunningProxy;
  cert: TestCert;
  client: grpc.Client;
  timeouts: string[];
}

type Callback<T> = (error: grpc.ServiceError | null, reply: T) => void;
interface Echo extends grpc.Client {
  Unary(req: object, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback<EchoReply>): grpc.ClientUnaryCall;
  ServerStream(req: object, metadata?: grpc.Metadata): grpc.ClientReadableStream<EchoReply>;
  Bidi(metadata?: grpc.Metadata): grpc.ClientDuplexStream<object, EchoReply>;
}

function grpcProxy(ctx: Ctx): ProxyHttp<null> {
  return {
    newCtx: () => null,
    upstreamPeer: () => peerOf(ctx.grpcPort, { alpn: 'h2' }),
    upstreamRequestFilter(_session: Session, req: RequestHeader) {
      const t = req.headers.get('grpc-timeout');
      if (t !== undefined) ctx.timeouts.push(t);
    },
  };
}

/** A unary call: its reply (or error), head metadata and trailing status. */
function unary(client: Echo, req: object, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) {
  return new Promise<{ error: grpc.ServiceError | null; reply: EchoReply | undefined; head: grpc.Metadata | undefined; status: grpc.StatusObject | undefined }>((resolve) => {
    let head: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    const call = client.Unary(req, metadata, options, (error, reply) => setImmediate(() => resolve({ error, reply, head, status })));
    call.on('metadata', (m: grpc.Metadata) => (head = m));
    call.on('status', (s: grpc.StatusObject) => (status = s));
  });
}

function collect(stream: grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<object, EchoReply>) {
  return new Promise<{ replies: EchoReply[]; error: grpc.ServiceError | undefined; status: grpc.StatusObject | undefined }>((resolve) => {
    const replies: EchoReply[] = [];
    let error: grpc.ServiceError | undefined;
    stream.on('data', (r: EchoReply) => replies.push(r));
    stream.on('error', (e: grpc.ServiceError) => (error = e));
    stream.on('status', (s: grpc.StatusObject) => setImmediate(() => resolve({ replies, error, status: s })));
  });
}

const g = suite<Ctx>('gRPC through the proxy');
g.before(async (ctx) => {
  ctx.timeouts = [];
  ctx.cert = makeCert();
  const started = await startEchoServer('127.0.0.1:0');
  ctx.grpcServer = started.server;
  ctx.grpcPort = started.port;
  ctx.proxy = await startProxy(grpcProxy(ctx), { h2c: true });
  ctx.client = new EchoClient(`127.0.0.1:${ctx.proxy.port}`, grpc.credentials.createInsecure());
  ctx.tls = await startTlsProxy(grpcProxy(ctx), ctx.cert);
});

g.after(async (ctx) => {
  ctx.client.close();
  await ctx.proxy.close();
  await ctx.tls.close();
  ctx.grpcServer.forceShutdown();
});

g('unary: reply, head metadata and trailing metadata intact', async (ctx) => {
  const metadata = new grpc.Metadata();
  metadata.set('x-trace', 'abc-123');
  const blob = Buffer.from([0, 255, 1, 128, 10, 13, 0]);
  metadata.set('x-blob-bin', blob);
  const r = await unary(ctx.client as Echo, { message: 'hello' }, metadata);
  assert.is(r.error, null);
  assert.is(r.reply?.message, 'hello');
  assert.equal(r.head?.get('x-trace-echo'), ['abc-123']);
  assert.is(r.status?.code, grpc.status.OK);
  assert.equal(r.status?.metadata.get('echo-x-trace'), ['abc-123']);
  const echoed = r.status?.metadata.get('echo-x-blob-bin')[0];
  assert.ok(Buffer.isBuffer(echoed) && echoed.equals(blob), 'binary metadata intact');
  // A 3 MiB message: several flow-control windows on both legs.
  const big = await unary(ctx.client as Echo, { message: 'm'.repeat(3 * 1024 * 1024) });
  assert.is(big.reply?.message.length, 3 * 1024 * 1024);
});

g('server streaming: 300 messages of 4 KiB arrive in order, status OK with trailers', async (ctx) => {
  const metadata = new grpc.Metadata();
  metadata.set('x-trace', 'stream-1');
  const r = await collect((ctx.client as Echo).ServerStream({ message: 'x'.repeat(4096), count: 300 }, metadata));
  assert.is(r.error, undefined);
  assert.is(r.replies.length, 300);
  assert.ok(r.replies.every((m, i) => m.index === i && m.message.endsWith(` ${i}`)));
  assert.is(r.status?.code, grpc.status.OK);
  assert.equal(r.status?.metadata.get('echo-x-trace'), ['stream-1']);
});

g('bidi streaming: each message answered as it comes', async (ctx) => {
  const call = (ctx.client as Echo).Bidi();
  const done = collect(call);
  const got: string[] = [];
  call.on('data', (r: EchoReply) => got.push(r.message));
  for (let i = 0; i < 20; i++) {
    call.write({ message: `msg ${i}` });
    // Interleaved: the answer to each message comes back before the next is sent.
    for (let w = 0; w < 100 && got.length <= i; w++) await new Promise((r) => setTimeout(r, 5));
    assert.is(got[i], `MSG ${i}`);
  }
  call.end();
  const r = await done;
  assert.is(r.replies.length, 20);
  assert.is(r.status?.code, grpc.status.OK);
});

g('error statuses: a trailers-only NOT_FOUND, and INTERNAL after streamed messages', async (ctx) => {
  const r = await unary(ctx.client as Echo, { message: 'missing', failCode: grpc.status.NOT_FOUND });
  assert.is(r.error?.code, grpc.status.NOT_FOUND);
  assert.is(r.error?.details, 'failed as asked: missing');
  const s = await collect((ctx.client as Echo).ServerStream({ message: 'm', count: 10, failAfter: 4 }));
  assert.is(s.replies.length, 4);
  assert.is(s.error?.code, grpc.status.INTERNAL);
  assert.is(s.error?.details, 'stopped after 4');
});

g('deadlines: grpc-timeout reaches the service, an exceeded deadline is DEADLINE_EXCEEDED, and the proxy keeps serving', async (ctx) => {
  const before = ctx.timeouts.length;
  const r = await unary(ctx.client as Echo, { message: 'slow', delayMs: 1500 }, new grpc.Metadata(), { deadline: Date.now() + 200 });
  assert.is(r.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.is(ctx.timeouts.length, before + 1);
  assert.match(ctx.timeouts[before], /^\d+[HMSmun]$/);
  const ok = await unary(ctx.client as Echo, { message: 'after' });
  assert.is(ok.reply?.message, 'after');
});

g('over TLS with ALPN h2: unary and streaming', async (ctx) => {
  const client = new EchoClient(`127.0.0.1:${ctx.tls.port}`, grpc.credentials.createSsl(ctx.cert.cert), { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' }) as unknown as Echo;
  try {
    const r = await unary(client, { message: 'secure' });
    assert.is(r.reply?.message, 'secure');
    const s = await collect(client.ServerStream({ message: 's', count: 5 }));
    assert.is(s.replies.length, 5);
  } finally {
    client.close();
  }
});

g.run();
