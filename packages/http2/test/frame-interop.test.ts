// Frames and header blocks captured from Node's node:http2 (nghttp2) client and server talking
// over a loopback socket through a recording relay, read back with our FrameReader and
// HpackDecoder; then our own frames sent to a node:http2 server and its answer read back.
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FrameReader,
  HpackDecoder,
  HpackEncoder,
  encodeData,
  encodeHeaders,
  encodePing,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
  encodeGoaway,
  type Settings,
} from '../src/index.js';
import { Recorder, joinData, readInPieces, type Event } from './frame-helpers.js';

const requestBody = randomBytes(100_000);
const responseBody = randomBytes(70_000);
const bigValue = randomBytes(24_000).toString('base64'); // ~32 KB: a field block over one frame
const pingData = Buffer.from('sluice!!');

function startServer(): Promise<http2.Http2Server> {
  const server = http2.createServer({
    paddingStrategy: http2.constants.PADDING_STRATEGY_MAX,
    settings: { maxHeaderListSize: 200_000, initialWindowSize: 50_000, maxConcurrentStreams: 77 },
    maxSessionMemory: 100,
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {});
    stream.on('end', () => {
      const received = Buffer.concat(chunks);
      stream.respond(
        { ':status': 200, 'x-reply': String(headers[':path']), 'x-received': String(received.length), 'content-type': 'application/octet-stream' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': received.subarray(0, 4).toString('hex') }));
      stream.end(headers[':path'] === '/upload' ? responseBody : Buffer.from('small'));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Capture {
  toServer: Buffer;
  toClient: Buffer;
}

/** Runs a node:http2 client against a node:http2 server through a relay that records both directions. */
async function capture(server: http2.Http2Server): Promise<Capture> {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  const closed: Promise<unknown>[] = [];
  const relay = net.createServer((downstream) => {
    const upstream = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    downstream.on('data', (d: Buffer) => {
      toServer.push(Buffer.from(d));
      if (!upstream.writableEnded) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      toClient.push(Buffer.from(d));
      if (!downstream.writableEnded) downstream.write(d);
    });
    downstream.on('end', () => upstream.end());
    upstream.on('end', () => downstream.end());
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
    // Not events.once: it rejects on 'error', and a reset while closing is fine here.
    closed.push(new Promise((r) => upstream.on('close', r)), new Promise((r) => downstream.on('close', r)));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`, {
    paddingStrategy: http2.constants.PADDING_STRATEGY_MAX,
    settings: { enablePush: false, initialWindowSize: 30_000, maxHeaderListSize: 200_000 },
  });
  const request = (path: string, body: Buffer | null, extra: http2.OutgoingHttpHeaders = {}) =>
    new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const stream = client.request({ ':method': body ? 'POST' : 'GET', ':path': path, ...extra }, { endStream: body === null });
      const chunks: Buffer[] = [];
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('response', (h) => (headers = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
      if (body) stream.end(body);
    });
  const upload = await request('/upload', requestBody, {
    'x-secret': 'hunter2',
    'x-big': bigValue,
    [http2.sensitiveHeaders]: ['x-secret'],
  });
  assert.ok(upload.body.equals(responseBody), 'node client got the body through the relay');
  await request('/small', null);
  await new Promise<void>((resolve, reject) => client.ping(pingData, (error) => (error ? reject(error) : resolve())));
  // A stream the client cancels: RST_STREAM(CANCEL).
  const cancelled = client.request({ ':method': 'POST', ':path': '/cancel' });
  cancelled.on('error', () => {});
  cancelled.write('x');
  await new Promise((r) => setTimeout(r, 20));
  cancelled.close(http2.constants.NGHTTP2_CANCEL);
  await new Promise((r) => setTimeout(r, 20));
  client.close();
  await once(client, 'close');
  await Promise.all(closed);
  relay.close();
  return { toServer: Buffer.concat(toServer), toClient: Buffer.concat(toClient) };
}

function decodeBlocks(events: Event[]): Array<{ streamId: number; endStream: boolean; fields: string[]; neverIndexed: number[] }> {
  const decoder = new HpackDecoder({ maxHeaderListSize: 200_000 });
  const out = [];
  for (const e of events) {
    if (e[0] !== 'HEADERS') continue;
    const neverIndexed: number[] = [];
    const fields = decoder.decode(Buffer.from(e[3] as string, 'hex'), [], neverIndexed);
    out.push({ streamId: e[1] as number, endStream: e[2] as boolean, fields, neverIndexed });
  }
  return out;
}

const field = (fields: string[], name: string) => {
  const i = fields.findIndex((v, j) => j % 2 === 0 && v === name);
  return i < 0 ? undefined : fields[i + 1];
};

const dataOf = (events: Event[], streamId: number) =>
  Buffer.concat(events.filter((e) => e[0] === 'DATA' && e[1] === streamId).map((e) => Buffer.from(e[3] as string, 'hex')));

let server: http2.Http2Server;
let captured: Capture;

const nghttp2 = suite('reading nghttp2 frames (node:http2 client and server)');
nghttp2.before(async () => {
  server = await startServer();
  captured = await capture(server);
});
nghttp2.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

nghttp2('client to server: preface, SETTINGS, padded HEADERS + CONTINUATION, DATA, PING, RST_STREAM, GOAWAY', () => {
  const events = readInPieces(captured.toServer, [], { expectPreface: true });
  const kinds = new Set(events.map((e) => e[0]));
  for (const kind of ['SETTINGS', 'HEADERS', 'DATA', 'WINDOW_UPDATE', 'PING', 'RST_STREAM', 'GOAWAY']) assert.ok(kinds.has(kind), `saw ${kind}`);
  assert.equal(events[0].slice(0, 2), ['SETTINGS', false]);
  const first = events[0][2] as Settings;
  assert.is(first.enablePush, false);
  assert.is(first.initialWindowSize, 30_000);
  assert.is(first.maxHeaderListSize, 200_000);
  const blocks = decodeBlocks(events);
  const upload = blocks.find((b) => field(b.fields, ':path') === '/upload')!;
  assert.is(field(upload.fields, ':method'), 'POST');
  assert.is(field(upload.fields, 'x-big'), bigValue, 'the block spanning CONTINUATION frames decodes');
  assert.is(field(upload.fields, 'x-secret'), 'hunter2');
  assert.ok(upload.neverIndexed.includes(upload.fields.indexOf('x-secret')), 'nghttp2 sent x-secret never-indexed');
  assert.ok(dataOf(events, upload.streamId).equals(requestBody), 'request body reassembled from DATA frames');
  assert.ok(events.some((e) => e[0] === 'DATA' && (e[4] as number) > (e[3] as string).length / 2), 'some DATA frames were padded');
  // Walk the raw frame headers: nghttp2 did split the big block into CONTINUATION frames.
  let continuations = 0;
  for (let at = CONNECTION_PREFACE.length; at < captured.toServer.length; at += 9 + captured.toServer.readUIntBE(at, 3)) {
    if (captured.toServer[at + 3] === 0x9) continuations++;
  }
  assert.ok(continuations >= 1, `${continuations} CONTINUATION frames`);
  assert.ok(events.some((e) => e[0] === 'PING' && e[1] === false && e[2] === pingData.toString('hex')));
  const cancel = blocks.find((b) => field(b.fields, ':path') === '/cancel')!;
  assert.ok(events.some((e) => e[0] === 'RST_STREAM' && e[1] === cancel.streamId && e[2] === ErrorCode.CANCEL));
  assert.equal(events.at(-1)!.slice(0, 3), ['GOAWAY', 0, ErrorCode.NO_ERROR]);
});
nghttp2('server to client: SETTINGS, response HEADERS, DATA, trailers, PING ACK, WINDOW_UPDATE', () => {
  const events = readInPieces(captured.toClient, []);
  const settings = events.find((e) => e[0] === 'SETTINGS' && e[1] === false)![2] as Settings;
  assert.is(settings.maxConcurrentStreams, 77);
  assert.is(settings.initialWindowSize, 50_000);
  assert.ok(events.some((e) => e[0] === 'SETTINGS' && e[1] === true), 'server ACKed our SETTINGS');
  assert.ok(events.some((e) => e[0] === 'PING' && e[1] === true && e[2] === pingData.toString('hex')));
  assert.ok(events.some((e) => e[0] === 'WINDOW_UPDATE'));
  const blocks = decodeBlocks(events);
  const response = blocks.find((b) => field(b.fields, 'x-reply') === '/upload')!;
  assert.is(field(response.fields, ':status'), '200');
  assert.is(field(response.fields, 'x-received'), String(requestBody.length));
  assert.is(response.endStream, false);
  const trailers = blocks.find((b) => b.streamId === response.streamId && b !== response)!;
  assert.is(trailers.endStream, true);
  assert.equal(trailers.fields, ['x-checksum', requestBody.subarray(0, 4).toString('hex')]);
  assert.ok(dataOf(events, response.streamId).equals(responseBody), 'response body reassembled');
});
nghttp2('both captures read the same when split anywhere', () => {
  let seed = 99;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (const [bytes, options] of [[captured.toServer, { expectPreface: true }], [captured.toClient, {}]] as const) {
    const whole = joinData(readInPieces(bytes, [], options));
    for (let round = 0; round < 40; round++) {
      const cuts = [...new Set(Array.from({ length: 30 }, () => 1 + random(bytes.length - 1)))].sort((a, b) => a - b);
      assert.equal(joinData(readInPieces(bytes, cuts, options)), whole);
    }
    // Every split point in the first 3 KB (preface, SETTINGS, the first header blocks).
    for (let cut = 1; cut < 3000; cut++) assert.equal(joinData(readInPieces(bytes, [cut], options)), whole);
  }
});

const ours = suite('our frames and header blocks, read by a node:http2 server');
let server2: http2.Http2Server;
ours.before(async () => {
  server2 = await startServer();
});
ours.after(() => new Promise<void>((resolve) => server2.close(() => resolve())));
ours('a POST with a CONTINUATION-sized block and padded DATA gets its response, body and trailers', async () => {
  const socket = net.connect((server2.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const recorder = new Recorder();
  const reader = new FrameReader(recorder);
  const encoder = new HpackEncoder();
  const body = randomBytes(40_000);
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      try {
        const before = recorder.events.length;
        reader.push(chunk);
        for (const e of recorder.events.slice(before)) {
          if (e[0] === 'SETTINGS' && e[1] === false) socket.write(encodeSettingsAck());
          if (e[0] === 'HEADERS' && e[2] === true) resolve();
        }
      } catch (error) {
        reject(error);
      }
    });
    socket.on('error', reject);
  });
  const block = encoder.encode([':method', 'POST', ':scheme', 'http', ':authority', 'localhost', ':path', '/upload', 'x-big', bigValue, 'authorization', 'Bearer t']);
  socket.write(
    Buffer.concat([
      CONNECTION_PREFACE,
      encodeSettings({ initialWindowSize: 1 << 20, enablePush: false }),
      encodeWindowUpdate(0, 1 << 20),
      encodeHeaders(1, block, { padLength: 9, priority: { dependsOn: 0, weight: 32 } }),
      encodeData(1, body.subarray(0, 16000), false, 200),
      encodeData(1, body.subarray(16000, 30000), false),
      encodePing(pingData),
      encodeData(1, body.subarray(30000), true, 1),
    ]),
  );
  await done;
  const closed = new Promise((r) => socket.on('close', r));
  socket.end(encodeGoaway(0, ErrorCode.NO_ERROR));
  await closed;
  const blocks = decodeBlocks(recorder.events);
  assert.is(field(blocks[0].fields, ':status'), '200');
  assert.is(field(blocks[0].fields, 'x-received'), String(body.length), 'nghttp2 read all our DATA');
  assert.equal(blocks[1].fields, ['x-checksum', body.subarray(0, 4).toString('hex')]);
  assert.ok(dataOf(recorder.events, 1).equals(responseBody));
  assert.ok(recorder.events.some((e) => e[0] === 'PING' && e[1] === true && e[2] === pingData.toString('hex')));
});

nghttp2.run();
ours.run();
