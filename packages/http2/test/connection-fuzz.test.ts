// Random frame sequences sent to our server after a valid handshake: whatever arrives, the server
// answers with a protocol error code or carries on, never with INTERNAL_ERROR (which would mean one
// of our handlers threw), and keeps serving new connections. Seeded, so a failure reproduces.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode as E, FrameType as T } from '../src/index.js';
import { frame, RawClient, describe } from './helpers/raw-client.js';
import { startServer, type TestServer } from './helpers/echo-server.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(next: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let j = 0; j < n; j++) out[j] = Math.floor(next() * 256);
  return out;
}

/** A frame a correct client could send at some point (though maybe not now): sizes and ids right. */
function wellFormed(c: RawClient, next: () => number, stream: number): Buffer {
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return b;
  };
  switch (Math.floor(next() * 9)) {
    case 0:
      return c.headers(stream, c.block([], [':method', 'POST', ':scheme', 'http', ':path', '/f', ':authority', 'x']), next() < 0.3);
    case 1:
      return c.get(stream);
    case 2:
      return frame(T.DATA, next() < 0.4 ? 1 : 0, stream, bytes(next, Math.floor(next() * 100)));
    case 3:
      return frame(T.WINDOW_UPDATE, 0, next() < 0.5 ? 0 : stream, u32(1 + Math.floor(next() * 100000)));
    case 4:
      return frame(T.RST_STREAM, 0, stream, u32(Math.floor(next() * 14)));
    case 5:
      return frame(T.PING, next() < 0.2 ? 1 : 0, 0, bytes(next, 8));
    case 6:
      return frame(T.SETTINGS, 0, 0, Buffer.from([0, 1 + Math.floor(next() * 6), 0, 0, 0x40, 0]));
    case 7:
      return frame(T.PRIORITY, 0, stream + 2 * Math.floor(next() * 3), Buffer.from([0, 0, 0, 0, 16]));
    default:
      return c.headers(stream, c.encoder.encode(['x-trailer', 't']), true);
  }
}

const fuzz = suite('connection fuzz');
let server: TestServer;
fuzz.before(async () => {
  server = await startServer({ settingsTimeoutMs: 2000 });
});
fuzz.after(() => server.close());

fuzz('300 connections of random frames: never INTERNAL_ERROR, the server keeps serving', async () => {
  const next = random(20261121);
  const outcomes: Record<string, number> = {};
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
  for (let round = 0; round < 300; round++) {
    const c = await RawClient.connect(server.port);
    try {
      await c.handshake();
      const frames: Buffer[] = [];
      let stream = 1;
      for (let i = 0; i < 12; i++) {
        if (next() < 0.8) {
          frames.push(wellFormed(c, next, stream));
          if (next() < 0.3) stream += 2;
          continue;
        }
        const type = next() < 0.9 ? Math.floor(next() * 10) : Math.floor(next() * 256);
        const streamId = pick([0, 1, 1, 1, 2, 3, 5, 7, 0x7fffffff]);
        let payload: Buffer;
        if ((type === T.HEADERS || type === T.CONTINUATION) && next() < 0.6) payload = c.block(next() < 0.3 ? ['x-r', String(next())] : []);
        else payload = bytes(next, pick([0, 1, 4, 5, 6, 8, 9, 12, 40]));
        frames.push(frame(type, Math.floor(next() * 256), streamId, payload));
      }
      c.send(...frames);
      for (;;) {
        const event = await c.next(300);
        if (event === "closed" || event === "timeout") { outcomes[event] = (outcomes[event] ?? 0) + 1; break; }
        if (event.type === T.GOAWAY) outcomes[event.payload.readUInt32BE(4)] = (outcomes[event.payload.readUInt32BE(4)] ?? 0) + 1;
        if (event.type === T.GOAWAY) assert.is.not(event.payload.readUInt32BE(4), E.INTERNAL_ERROR, `round ${round}: ${describe(event)}`);
        if (event.type === T.RST_STREAM) assert.is.not(event.payload.readUInt32BE(0), E.INTERNAL_ERROR, `round ${round}: ${describe(event)}`);
      }
    } finally {
      c.close();
    }
  }
  console.log(`fuzz outcomes (GOAWAY code: count, and how rounds ended): ${JSON.stringify(outcomes)}`);
  const check = await RawClient.connect(server.port);
  await check.handshake();
  check.send(check.get(1));
  assert.is((await check.response(1)).status, 200);
  check.close();
});

fuzz.run();
