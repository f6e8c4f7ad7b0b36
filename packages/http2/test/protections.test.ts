// Each protection, tested by sending the attack over a real socket: the connection either survives
// at a bounded cost or ends with GOAWAY ENHANCE_YOUR_CALM (or the RFC's code for the violation).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode as E, FrameFlag as F, FrameType as T } from '../src/index.js';
import { frame, RawClient, setting, u32, describe } from './helpers/raw-client.js';
import { startServer, type TestServer } from './helpers/echo-server.js';

const servers: TestServer[] = [];
async function client(options: Parameters<typeof startServer>[0] = {}, handler?: Parameters<typeof startServer>[1]): Promise<RawClient> {
  const server = await startServer(options, handler);
  servers.push(server);
  const c = await RawClient.connect(server.port);
  await c.handshake();
  return c;
}
const post = (c: RawClient, id: number): Buffer => c.headers(id, c.block([], [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'x']), false);

const floods = suite('floods');
floods.after(async () => {
  for (const s of servers.splice(0)) await s.close();
});

floods('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM pairs past the budget end in GOAWAY ENHANCE_YOUR_CALM', async () => {
  const c = await client(); // default budget: 1000 resets per 10 s
  const frames: Buffer[] = [];
  for (let i = 0; i < 1100; i++) frames.push(post(c, 1 + 2 * i), frame(T.RST_STREAM, 0, 1 + 2 * i, u32(E.CANCEL)));
  c.send(...frames);
  const goaway = await c.connectionError(E.ENHANCE_YOUR_CALM);
  assert.match(goaway.payload.subarray(8).toString(), 'CVE-2023-44487');
  c.close();
});

floods('rapid reset below the budget is served normally', async () => {
  const c = await client({ maxResetsPerWindow: 100 });
  const frames: Buffer[] = [];
  for (let i = 0; i < 90; i++) frames.push(post(c, 1 + 2 * i), frame(T.RST_STREAM, 0, 1 + 2 * i, u32(E.CANCEL)));
  c.send(...frames, c.get(181));
  assert.is((await c.response(181)).status, 200);
  c.close();
});

floods('too many streams: refused with REFUSED_STREAM, and refusals count against the reset budget', async () => {
  const c = await client({ maxConcurrentStreams: 10, maxResetsPerWindow: 20 });
  const frames: Buffer[] = [];
  for (let i = 0; i < 11; i++) frames.push(post(c, 1 + 2 * i));
  c.send(...frames);
  assert.is(await c.streamError(21, E.REFUSED_STREAM), 'rst');
  await c.alive();
  const more: Buffer[] = [];
  for (let i = 11; i < 40; i++) more.push(post(c, 1 + 2 * i));
  c.send(...more);
  let refused = 0;
  for (;;) {
    const event = await c.next();
    if (typeof event === 'string') throw new Error(`expected GOAWAY, got ${event}`);
    if (event.type === T.RST_STREAM) {
      assert.is(event.payload.readUInt32BE(0), E.REFUSED_STREAM);
      refused++;
    }
    if (event.type === T.GOAWAY) {
      assert.is(event.payload.readUInt32BE(4), E.ENHANCE_YOUR_CALM, describe(event));
      break;
    }
  }
  assert.ok(refused >= 19 && refused <= 21, `${refused} refusals before GOAWAY`);
  await c.closedByServer();
  c.close();
});

floods('CONTINUATION flood (CVE-2024-27316): endless empty CONTINUATIONs end in ENHANCE_YOUR_CALM', async () => {
  const c = await client();
  const frames = [frame(T.HEADERS, 0, 1, c.block())];
  for (let i = 0; i < 100; i++) frames.push(frame(T.CONTINUATION, 0, 1));
  c.send(...frames);
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

floods('CONTINUATION flood: a field block past maxFieldBlockSize ends in ENHANCE_YOUR_CALM before it is buffered', async () => {
  const c = await client({ maxFieldBlockSize: 32768 });
  const frames = [frame(T.HEADERS, 0, 1, c.block())];
  for (let i = 0; i < 3; i++) frames.push(frame(T.CONTINUATION, 0, 1, Buffer.alloc(16000, 0x40)));
  c.send(...frames);
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

floods('SETTINGS flood ends in ENHANCE_YOUR_CALM', async () => {
  const c = await client({ maxControlFramesPerWindow: 200 });
  const frames: Buffer[] = [];
  for (let i = 0; i < 300; i++) frames.push(frame(T.SETTINGS, 0, 0, setting(3, 100)));
  c.send(...frames);
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

floods('PING flood ends in ENHANCE_YOUR_CALM (default budget)', async () => {
  const c = await client();
  const frames: Buffer[] = [];
  for (let i = 0; i < 1100; i++) frames.push(frame(T.PING, 0, 0, Buffer.alloc(8, i & 0xff)));
  c.send(...frames);
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

floods('empty DATA flood ends in ENHANCE_YOUR_CALM', async () => {
  const c = await client();
  const frames = [post(c, 1)];
  for (let i = 0; i < 150; i++) frames.push(frame(T.DATA, 0, 1));
  c.send(...frames);
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

floods('a peer that never reads cannot make us queue control answers without bound', async () => {
  const c = await client({ maxOutboundBufferSize: 1, maxControlFramesPerWindow: 1_000_000 });
  c.socket.pause(); // never read: our PING ACKs pile up in the socket
  const chunk = Buffer.concat(Array.from({ length: 4096 }, () => frame(T.PING, 0, 0, Buffer.alloc(8))));
  let goaway = false;
  c.socket.on('close', () => (goaway = true));
  for (let i = 0; i < 400 && !goaway; i++) {
    if (!c.socket.write(chunk)) await new Promise((r) => setTimeout(r, 5));
  }
  c.socket.resume();
  await c.connectionError(E.ENHANCE_YOUR_CALM);
  c.close();
});

const windows = suite('flow-control attacks and memory bounds');
windows.after(async () => {
  for (const s of servers.splice(0)) await s.close();
});

windows('a body past the stream window is a stream FLOW_CONTROL_ERROR: unread data is bounded by initialWindowSize', async () => {
  const neverRead = (): Promise<void> => new Promise(() => {});
  const c = await client({ initialWindowSize: 16384 }, neverRead);
  c.send(post(c, 1));
  for (let i = 0; i < 4; i++) c.send(frame(T.DATA, 0, 1, Buffer.alloc(4096)));
  c.send(frame(T.DATA, 0, 1, Buffer.alloc(1)));
  assert.is(await c.streamError(1, E.FLOW_CONTROL_ERROR), 'rst');
  await c.alive();
  c.close();
});

windows('a SETTINGS_INITIAL_WINDOW_SIZE change that overflows a stream window is FLOW_CONTROL_ERROR', async () => {
  const neverRead = (): Promise<void> => new Promise(() => {});
  const c = await client({}, neverRead);
  c.send(post(c, 1), frame(T.WINDOW_UPDATE, 0, 1, u32(2 ** 31 - 1 - 65535)), frame(T.SETTINGS, 0, 0, setting(4, 2 ** 31 - 1)));
  await c.connectionError(E.FLOW_CONTROL_ERROR);
  c.close();
});

windows('the server never sends past the client window and resumes on WINDOW_UPDATE', async () => {
  const big = Buffer.alloc(100_000, 0x62);
  const c = await client({}, async (stream) => {
    stream.writeHeaders([':status', '200'], false);
    await stream.writeData(big, true);
  });
  c.send(frame(T.SETTINGS, 0, 0, setting(4, 1000)), c.get(1));
  let received = 0;
  let ended = false;
  let credit = 1000;
  let connectionCredit = 65535;
  while (!ended) {
    const event = await c.next();
    if (typeof event === 'string') throw new Error(event);
    if (event.type !== T.DATA) continue;
    received += event.payload.length;
    credit -= event.payload.length;
    connectionCredit -= event.payload.length;
    assert.ok(credit >= 0 && connectionCredit >= 0, `window respected (stream ${credit}, connection ${connectionCredit})`);
    ended = (event.flags & F.END_STREAM) !== 0;
    if (credit === 0) {
      c.send(frame(T.WINDOW_UPDATE, 0, 1, u32(5000)), frame(T.WINDOW_UPDATE, 0, 0, u32(5000)));
      credit += 5000;
      connectionCredit += 5000;
    }
  }
  assert.is(received, big.length);
  c.close();
});

const lifecycle = suite('settings timeout, keepalive, graceful shutdown');
lifecycle.after(async () => {
  for (const s of servers.splice(0)) await s.close();
});

lifecycle('SETTINGS not ACKed in time: GOAWAY SETTINGS_TIMEOUT', async () => {
  const server = await startServer({ settingsTimeoutMs: 150 });
  servers.push(server);
  const c = await RawClient.connect(server.port);
  c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(T.SETTINGS, 0, 0)); // never ACKs the server's
  await c.connectionError(E.SETTINGS_TIMEOUT);
  c.close();
});

lifecycle('keepalive: PINGs every pingIntervalMs; an unanswered one closes the connection', async () => {
  const server = await startServer({ pingIntervalMs: 50, pingTimeoutMs: 120 });
  servers.push(server);
  const c = await RawClient.connect(server.port);
  await c.handshake();
  let pings = 0;
  for (;;) {
    const event = await c.next(2000);
    if (event === 'closed') break;
    if (typeof event === 'string') throw new Error(`expected PINGs then a close, got ${event}`);
    if (event.type === T.PING) {
      pings++;
      if (pings <= 2) c.send(frame(T.PING, F.ACK, 0, event.payload)); // answer two, then stay silent
    }
  }
  assert.ok(pings >= 3, `saw ${pings} PINGs`);
  c.close();
});

lifecycle('idle timeout: a connection without streams for idleTimeoutMs gets GOAWAY NO_ERROR and is closed; a busy one is not', async () => {
  const server = await startServer({ idleTimeoutMs: 150 }, async (stream) => {
    await new Promise((r) => setTimeout(r, 250)); // longer than the idle timeout: the stream keeps it alive
    stream.writeHeaders([':status', '200'], true);
  });
  servers.push(server);
  const c = await RawClient.connect(server.port);
  await c.handshake();
  c.send(c.get(1));
  assert.is((await c.response(1, 1000)).status, 200);
  const started = Date.now();
  const goaway = await c.connectionError(E.NO_ERROR);
  assert.is(goaway.payload.readUInt32BE(0), 1);
  assert.ok(Date.now() - started >= 100, 'closed only after being idle');
  c.close();
});

lifecycle('graceful shutdown: GOAWAY 2^31-1 + PING, then GOAWAY with the last stream; streams in progress finish', async () => {
  const controller = new AbortController();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = await startServer({ shutdown: controller.signal }, async (stream) => {
    await gate;
    stream.writeHeaders([':status', '200'], true);
  });
  servers.push(server);
  const c = await RawClient.connect(server.port);
  await c.handshake();
  c.send(c.get(1));
  await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  const first = await c.next();
  assert.ok(typeof first !== 'string' && first.type === T.GOAWAY, describe(first));
  assert.is((first as { payload: Buffer }).payload.readUInt32BE(0), 2 ** 31 - 1);
  const probe = await c.next();
  assert.ok(typeof probe !== 'string' && probe.type === T.PING, describe(probe));
  c.send(frame(T.PING, F.ACK, 0, (probe as { payload: Buffer }).payload));
  const second = await c.next();
  assert.ok(typeof second !== 'string' && second.type === T.GOAWAY, describe(second));
  assert.is((second as { payload: Buffer }).payload.readUInt32BE(0), 1);
  assert.is((second as { payload: Buffer }).payload.readUInt32BE(4), E.NO_ERROR);
  c.send(c.get(3)); // after the GOAWAY: ignored
  release();
  const response = await c.response(1);
  assert.is(response.status, 200);
  await c.closedByServer();
  c.close();
});

floods.run();
windows.run();
lifecycle.run();
