// A client's GOAWAY (RFC 9113 §6.8) means no new stream will come: the server finishes the streams
// it has, answers GOAWAY and closes, as nghttp2 servers do (h2load waits for that close).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode as E, FrameType as T } from '../src/index.js';
import { frame, RawClient, u32 } from './helpers/raw-client.js';
import { startServer, type TestServer } from './helpers/echo-server.js';

const goaway = suite("the client's GOAWAY");
let server: TestServer;
goaway.before(async () => {
  server = await startServer({}, async (stream) => {
    // Answers after a short wait, so a GOAWAY can arrive while the stream is open.
    await new Promise((r) => setTimeout(r, 100));
    await stream.respond((await import('@sluice/core')).ResponseHeader.build(200), 'done');
  });
});
goaway.after(() => server.close());

goaway('an idle connection is answered with GOAWAY NO_ERROR and closed', async () => {
  const c = await RawClient.connect(server.port);
  await c.handshake();
  c.send(frame(T.GOAWAY, 0, 0, u32(0, E.NO_ERROR)));
  const reply = await c.connectionError(E.NO_ERROR);
  assert.is(reply.payload.readUInt32BE(0) & 0x7fffffff, 0, 'no stream was processed');
});

goaway('a stream in flight completes before the close', async () => {
  const c = await RawClient.connect(server.port);
  await c.handshake();
  c.send(c.headers(1, c.block([]), true));
  c.send(frame(T.GOAWAY, 0, 0, u32(1, E.NO_ERROR)));
  const response = await c.response(1);
  assert.is(response.status, 200);
  const reply = await c.connectionError(E.NO_ERROR);
  assert.is(reply.payload.readUInt32BE(0) & 0x7fffffff, 1, 'stream 1 was processed');
});

goaway.run();
