// Random and mutated input must end in a decoded result or an Http2Error, never another exception.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FrameReader,
  HpackDecoder,
  HpackEncoder,
  Http2Error,
  encodeData,
  encodeHeaders,
  encodePing,
  encodeSettings,
  encodeWindowUpdate,
  encodeGoaway,
} from '../src/index.js';
import { Recorder } from './frame-helpers.js';

let seed = 12345;
const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => random(256)));

function onlyHttp2Errors(fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (!(error instanceof Http2Error)) throw error;
    return 'error';
  }
}

const hpack = suite('HPACK decoder on random and mutated blocks');
hpack('random blocks', () => {
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 20000; i++) {
    const decoder = new HpackDecoder({ maxHeaderListSize: 4096 });
    outcomes[onlyHttp2Errors(() => decoder.decode(randomBytes(1 + random(40))))]++;
  }
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
});
hpack('one flipped octet in a valid block', () => {
  const encoder = new HpackEncoder();
  const valid = encoder.encode([':method', 'GET', ':path', '/a/b?c=d', 'user-agent', 'fuzz/1.0', 'cookie', 'a=b; c=d; e=f; g=h; i=j', 'x-id', '1234567890']);
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 20000; i++) {
    const block = Buffer.from(valid);
    block[random(block.length)] = random(256);
    outcomes[onlyHttp2Errors(() => new HpackDecoder().decode(block))]++;
  }
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
});
hpack('every truncation of a valid block', () => {
  const valid = new HpackEncoder().encode(['x-long', 'v'.repeat(300), ':authority', 'example.com', 'x-plain', '\u00ff\u00fe']);
  for (let end = 0; end < valid.length; end++) onlyHttp2Errors(() => new HpackDecoder().decode(valid.subarray(0, end)));
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x40])), (e: Http2Error) => e.code === 'ERR_HPACK_TRUNCATED');
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x40, 0x01, 0x61])), (e: Http2Error) => e.code === 'ERR_HPACK_TRUNCATED');
});

const frames = suite('FrameReader on random and mutated bytes');
const valid = Buffer.concat([
  encodeSettings({ maxConcurrentStreams: 10, initialWindowSize: 1000 }),
  encodeHeaders(1, randomBytes(50), { padLength: 3, priority: { dependsOn: 0, weight: 10 } }),
  encodeData(1, randomBytes(30), true, 5),
  encodeWindowUpdate(0, 100),
  encodePing(randomBytes(8)),
  encodeGoaway(1, 0, randomBytes(5)),
]);
frames('one flipped octet anywhere in a valid stream', () => {
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 20000; i++) {
    const bytes = Buffer.from(valid);
    bytes[random(bytes.length)] = random(256);
    const reader = new FrameReader(new Recorder());
    outcomes[onlyHttp2Errors(() => reader.push(bytes))]++;
  }
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
});
frames('random bytes after a valid start', () => {
  for (let i = 0; i < 5000; i++) {
    const reader = new FrameReader(new Recorder(), { maxFrameSize: 16384 });
    onlyHttp2Errors(() => reader.push(Buffer.concat([valid.subarray(0, random(valid.length)), randomBytes(random(200))])));
  }
});

hpack.run();
frames.run();
