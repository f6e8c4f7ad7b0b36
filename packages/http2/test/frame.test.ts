import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CONNECTION_PREFACE,
  ErrorCode,
  FrameFlag,
  FrameReader,
  FrameType,
  Http2Error,
  PADDING,
  encodeContinuation,
  encodeData,
  encodeDataHeader,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
} from '../src/index.js';
import { Recorder, joinData, readInPieces } from './frame-helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const block = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

function connectionError(bytes: Buffer, code: string, errorCode: number, options = {}): void {
  const reader = new FrameReader(new Recorder(), options);
  try {
    reader.push(bytes);
  } catch (error) {
    assert.instance(error, Http2Error);
    assert.is((error as Http2Error).code, code, (error as Error).message);
    assert.is((error as Http2Error).errorCode, errorCode, (error as Error).message);
    assert.is((error as Http2Error).streamId, 0);
    // The reader stays failed.
    assert.throws(() => reader.push(encodeSettingsAck()), (e: Http2Error) => e === error);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

// One of every frame type, with the options that change the layout.
const bigBlock = block(40000);
const frames = [
  encodeSettings({ headerTableSize: 8192, enablePush: false, maxConcurrentStreams: 100, initialWindowSize: 1 << 20, maxFrameSize: 32768, maxHeaderListSize: 65536, enableConnectProtocol: true }),
  encodeSettingsAck(),
  encodeHeaders(1, block(30), { endStream: false }),
  encodeHeaders(3, block(20, 2), { endStream: true, padLength: 7, priority: { dependsOn: 1, weight: 200, exclusive: true } }),
  encodeHeaders(5, bigBlock, { maxFrameSize: 16384 }), // HEADERS + 2 CONTINUATIONs
  encodeData(1, block(100, 3), false),
  encodeData(1, block(50, 4), true, 16),
  encodeData(3, Buffer.alloc(0), true),
  Buffer.concat([encodeDataHeader(5, 10, false, 3), block(10, 5), PADDING.subarray(0, 3)]),
  encodePriority(7, { dependsOn: 0, weight: 16 }),
  encodeRstStream(3, ErrorCode.CANCEL),
  encodePushPromise(1, 2, block(25, 6), { padLength: 4 }),
  encodePushPromise(1, 4, bigBlock, { maxFrameSize: 20000 }),
  encodePing(hex('0102030405060708')),
  encodePing(hex('0102030405060708'), true),
  encodeWindowUpdate(0, 1),
  encodeWindowUpdate(1, 0x7fffffff),
  encodeFrame(0xfa, 0xff, 9, hex('cafe')), // unknown type and flags
  encodeFrame(FrameType.PING, 0xfe, 0, hex('0000000000000009')), // unknown PING flags
  encodeGoaway(5, ErrorCode.NO_ERROR, Buffer.from('bye')),
];
const wire = Buffer.concat(frames);
const big = { maxFrameSize: 20000 };
const expected = [
  ['SETTINGS', false, { headerTableSize: 8192, enablePush: false, maxConcurrentStreams: 100, initialWindowSize: 1 << 20, maxFrameSize: 32768, maxHeaderListSize: 65536, enableConnectProtocol: true }],
  ['SETTINGS', true, {}],
  ['HEADERS', 1, false, block(30).toString('hex'), 0],
  ['HEADERS', 3, true, block(20, 2).toString('hex'), 1],
  ['HEADERS', 5, false, bigBlock.toString('hex'), 0],
  ['DATA', 1, false, block(100, 3).toString('hex'), 100],
  ['DATA', 1, true, block(50, 4).toString('hex'), 50 + 17],
  ['DATA', 3, true, '', 0],
  ['DATA', 5, false, block(10, 5).toString('hex'), 14],
  ['RST_STREAM', 3, ErrorCode.CANCEL],
  ['PUSH_PROMISE', 1, 2, block(25, 6).toString('hex')],
  ['PUSH_PROMISE', 1, 4, bigBlock.toString('hex')],
  ['PING', false, '0102030405060708'],
  ['PING', true, '0102030405060708'],
  ['WINDOW_UPDATE', 0, 1],
  ['WINDOW_UPDATE', 1, 0x7fffffff],
  ['UNKNOWN', 0xfa, 0xff, 9, 'cafe'],
  ['PING', false, '0000000000000009'],
  ['GOAWAY', 5, 0, 'bye'],
];

const roundTrip = suite('frame round trips');
roundTrip('every frame type encodes and reads back', () => {
  assert.equal(readInPieces(wire, [], big), expected);
});
roundTrip('the same frames split at every single point', () => {
  const joined = joinData(expected);
  for (let cut = 1; cut < wire.length; cut += cut < 400 || wire.length - cut < 400 ? 1 : 97) {
    assert.equal(joinData(readInPieces(wire, [cut], big)), joined, `cut at ${cut}`);
  }
  // Every point of the small frames around the big ones, in both places of a two-cut split.
  const small = Buffer.concat(frames.filter((f) => f.length < 1000));
  const smallExpected = joinData(readInPieces(small, []));
  for (let a = 1; a < small.length; a++) {
    for (let b = a + 1; b < small.length; b += 13) assert.equal(joinData(readInPieces(small, [a, b])), smallExpected, `cuts ${a}, ${b}`);
  }
});
roundTrip('one octet at a time', () => {
  assert.equal(joinData(readInPieces(wire, Array.from({ length: wire.length - 1 }, (_, i) => i + 1), big)), joinData(expected));
});
roundTrip('a DATA frame split across chunks arrives in pieces, as views, padding removed', () => {
  const data = block(1000, 9);
  const frame = encodeData(3, data, true, 20); // payload: 1 + 1000 + 20
  const recorder = new Recorder();
  const pieces: Buffer[] = [];
  const onData = recorder.onData.bind(recorder);
  recorder.onData = (streamId, endStream, piece, flowControlled) => {
    pieces.push(piece);
    onData(streamId, endStream, piece, flowControlled);
  };
  const reader = new FrameReader(recorder);
  const chunks = [frame.subarray(0, 9), frame.subarray(9, 10), frame.subarray(10, 400), frame.subarray(400, 1005), frame.subarray(1005, 1015), frame.subarray(1015)];
  for (const chunk of chunks) reader.push(chunk);
  assert.equal(recorder.events, [
    ['DATA', 3, false, data.subarray(0, 390).toString('hex'), 391], // pad length octet + 390
    ['DATA', 3, false, data.subarray(390, 995).toString('hex'), 605],
    ['DATA', 3, false, data.subarray(995).toString('hex'), 5],
    ['DATA', 3, true, '', 20], // the rest of the padding, and END_STREAM
  ]);
  assert.is(pieces[1].buffer, frame.buffer, 'a view of the pushed chunk');
  // An unpadded frame ends with its last data octet.
  assert.equal(readInPieces(encodeData(1, block(10), true), [12]), [
    ['DATA', 1, false, block(10).subarray(0, 3).toString('hex'), 3],
    ['DATA', 1, true, block(10).subarray(3).toString('hex'), 7],
  ]);
});
roundTrip('a split DATA frame with an oversized pad length is refused when that octet arrives', () => {
  const reader = new FrameReader(new Recorder());
  reader.push(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, Buffer.alloc(10)).subarray(0, 9));
  assert.throws(() => reader.push(Buffer.from([10])), (e: Http2Error) => e.code === 'ERR_H2_PADDING' && e.errorCode === ErrorCode.PROTOCOL_ERROR);
  const onStreamZero = new FrameReader(new Recorder());
  assert.throws(() => onStreamZero.push(encodeFrame(FrameType.DATA, 0, 0, Buffer.alloc(10)).subarray(0, 12)), (e: Http2Error) => e.code === 'ERR_H2_STREAM_ID');
});
roundTrip('payloads of frames that arrive whole are views, not copies', () => {
  const chunk = encodeData(1, block(64), false);
  let seen: Buffer | undefined;
  const recorder = new Recorder();
  recorder.onData = (_s, _e, data) => (seen = data);
  new FrameReader(recorder).push(chunk);
  assert.is(seen!.buffer, chunk.buffer);
  assert.is(seen!.byteOffset, chunk.byteOffset + 9);
});
roundTrip('the client preface is checked when expected', () => {
  const bytes = Buffer.concat([CONNECTION_PREFACE, encodeSettings({})]);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.equal(readInPieces(bytes, [cut], { expectPreface: true }), [['SETTINGS', false, {}]]);
  }
  connectionError(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'ERR_H2_BAD_PREFACE', ErrorCode.PROTOCOL_ERROR, { expectPreface: true });
});
roundTrip('frame header layout (RFC 9113 §4.1)', () => {
  assert.is(encodeWindowUpdate(0x7fffffff, 1).toString('hex'), '000004' + '08' + '00' + '7fffffff' + '00000001');
  assert.is(encodeRstStream(1, 8).toString('hex'), '000004030000000001' + '00000008');
  assert.is(encodeSettingsAck().toString('hex'), '000000040100000000');
  // The reserved bit of the stream id is ignored on receipt.
  assert.equal(readInPieces(hex('000004080080000001 00000010'), []), [['WINDOW_UPDATE', 1, 16]]);
});

const sizes = suite('frame size rules (FRAME_SIZE_ERROR)');
sizes('frames above SETTINGS_MAX_FRAME_SIZE, before their payload arrives', () => {
  connectionError(encodeData(1, Buffer.alloc(16385), false).subarray(0, 9), 'ERR_H2_FRAME_TOO_LARGE', ErrorCode.FRAME_SIZE_ERROR);
  assert.equal(readInPieces(encodeData(1, Buffer.alloc(16385), false), [], { maxFrameSize: 16385 })[0][4], 16385);
  const reader = new FrameReader(new Recorder());
  reader.setMaxFrameSize(1 << 20);
  reader.push(encodeData(1, Buffer.alloc(100000), false));
  assert.throws(() => reader.setMaxFrameSize(16383), /maxFrameSize/);
});
sizes('fixed-length frames', () => {
  connectionError(encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(7)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(9)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.WINDOW_UPDATE, 0, 1, Buffer.alloc(3)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(5)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.alloc(7)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.alloc(7)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.SETTINGS, FrameFlag.ACK, 0, Buffer.alloc(6)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.HEADERS, FrameFlag.PRIORITY | FrameFlag.END_HEADERS, 1, Buffer.alloc(4)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, Buffer.alloc(3)), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
  connectionError(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1), 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR);
});
sizes('a PRIORITY of the wrong length is a stream error; reading goes on', () => {
  const bytes = Buffer.concat([encodeFrame(FrameType.PRIORITY, 0, 5, Buffer.alloc(4)), encodePing(Buffer.alloc(8))]);
  assert.equal(readInPieces(bytes, []), [['STREAM_ERROR', 5, 'ERR_H2_FRAME_SIZE', ErrorCode.FRAME_SIZE_ERROR], ['PING', false, '0000000000000000']]);
});

const ids = suite('stream identifier rules (PROTOCOL_ERROR)');
ids('stream frames on stream 0 and connection frames on a stream', () => {
  for (const type of [FrameType.DATA, FrameType.HEADERS, FrameType.PRIORITY, FrameType.RST_STREAM, FrameType.PUSH_PROMISE]) {
    const payload = type === FrameType.PRIORITY ? Buffer.alloc(5) : Buffer.alloc(4);
    connectionError(encodeFrame(type, FrameFlag.END_HEADERS, 0, payload), 'ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR);
  }
  connectionError(encodeFrame(FrameType.SETTINGS, 0, 1), 'ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR);
  connectionError(encodeFrame(FrameType.PING, 0, 1, Buffer.alloc(8)), 'ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR);
  connectionError(encodeFrame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8)), 'ERR_H2_STREAM_ID', ErrorCode.PROTOCOL_ERROR);
});
ids('zero WINDOW_UPDATE increments: stream error on a stream, connection error on 0', () => {
  assert.equal(readInPieces(encodeFrame(FrameType.WINDOW_UPDATE, 0, 3, Buffer.alloc(4)), []), [['STREAM_ERROR', 3, 'ERR_H2_ZERO_WINDOW_INCREMENT', ErrorCode.PROTOCOL_ERROR]]);
  connectionError(encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(4)), 'ERR_H2_ZERO_WINDOW_INCREMENT', ErrorCode.PROTOCOL_ERROR);
});
ids('a PRIORITY that depends on its own stream is a stream error; HEADERS report dependsOn', () => {
  assert.equal(readInPieces(encodePriority(5, { dependsOn: 5, weight: 1 }), []), [['STREAM_ERROR', 5, 'ERR_H2_SELF_DEPENDENCY', ErrorCode.PROTOCOL_ERROR]]);
  assert.equal(readInPieces(encodeHeaders(5, hex('82'), { priority: { dependsOn: 5, weight: 1 } }), []), [['HEADERS', 5, false, '82', 5]]);
});

const padding = suite('padding (RFC 9113 §6.1, §6.2, §6.6)');
padding('pad length equal to or above the payload is PROTOCOL_ERROR', () => {
  connectionError(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, hex('06 0000000000')), 'ERR_H2_PADDING', ErrorCode.PROTOCOL_ERROR);
  connectionError(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, hex('01')), 'ERR_H2_PADDING', ErrorCode.PROTOCOL_ERROR);
  // A pad length of payload length - 1 is the most allowed: no data at all.
  assert.equal(readInPieces(encodeFrame(FrameType.DATA, FrameFlag.PADDED, 1, hex('05 0000000000')), []), [['DATA', 1, false, '', 6]]);
  assert.equal(readInPieces(encodeFrame(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.END_HEADERS, 1, hex('03 82 0000')), []), [['HEADERS', 1, false, '', 0]]);
  connectionError(encodeFrame(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.END_HEADERS, 1, hex('04 82 0000')), 'ERR_H2_PADDING', ErrorCode.PROTOCOL_ERROR);
  connectionError(
    encodeFrame(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.PRIORITY | FrameFlag.END_HEADERS, 1, hex('03 0000000010 82 00')),
    'ERR_H2_PADDING',
    ErrorCode.PROTOCOL_ERROR,
  );
  connectionError(encodeFrame(FrameType.PUSH_PROMISE, FrameFlag.PADDED | FrameFlag.END_HEADERS, 1, hex('02 00000002 00')), 'ERR_H2_PADDING', ErrorCode.PROTOCOL_ERROR);
});
padding('padding is optional on encode and stripped on decode', () => {
  for (const padLength of [0, 1, 255]) {
    const events = readInPieces(Buffer.concat([encodeData(1, hex('abcd'), false, padLength), encodeHeaders(1, hex('8286'), { padLength })]), []);
    assert.equal(events, [['DATA', 1, false, 'abcd', 2 + (padLength ? padLength + 1 : 0)], ['HEADERS', 1, false, '8286', 0]]);
  }
});

const settings = suite('SETTINGS validation (RFC 9113 §6.5.2)');
const setting = (id: number, value: number) => {
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(id, 0);
  payload.writeUInt32BE(value, 2);
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
};
settings('ENABLE_PUSH must be 0 or 1', () => {
  connectionError(setting(2, 2), 'ERR_H2_INVALID_SETTING', ErrorCode.PROTOCOL_ERROR);
  assert.equal(readInPieces(setting(2, 0), []), [['SETTINGS', false, { enablePush: false }]]);
});
settings('INITIAL_WINDOW_SIZE above 2^31-1 is FLOW_CONTROL_ERROR', () => {
  connectionError(setting(4, 0x80000000), 'ERR_H2_INVALID_SETTING', ErrorCode.FLOW_CONTROL_ERROR);
  assert.equal(readInPieces(setting(4, 0x7fffffff), []), [['SETTINGS', false, { initialWindowSize: 0x7fffffff }]]);
});
settings('MAX_FRAME_SIZE must be within 2^14..2^24-1', () => {
  connectionError(setting(5, 16383), 'ERR_H2_INVALID_SETTING', ErrorCode.PROTOCOL_ERROR);
  connectionError(setting(5, 16777216), 'ERR_H2_INVALID_SETTING', ErrorCode.PROTOCOL_ERROR);
  assert.equal(readInPieces(setting(5, 16777215), []), [['SETTINGS', false, { maxFrameSize: 16777215 }]]);
});
settings('unknown parameters are ignored; repeated ones keep the last value', () => {
  const payload = Buffer.concat([setting(0xff, 7).subarray(9), setting(3, 10).subarray(9), setting(3, 20).subarray(9)]);
  assert.equal(readInPieces(encodeFrame(FrameType.SETTINGS, 0, 0, payload), []), [['SETTINGS', false, { maxConcurrentStreams: 20 }]]);
});
settings('the encoder refuses values a peer must reject', () => {
  assert.throws(() => encodeSettings({ initialWindowSize: 2 ** 31 }), (e: Http2Error) => e.code === 'ERR_H2_INVALID_ARGUMENT');
  assert.throws(() => encodeSettings({ maxFrameSize: 100 }), (e: Http2Error) => e.code === 'ERR_H2_INVALID_ARGUMENT');
});

const continuation = suite('CONTINUATION sequencing (RFC 9113 §6.10)');
continuation('HEADERS + CONTINUATIONs are handed over as one block', () => {
  const bytes = Buffer.concat([
    encodeFrame(FrameType.HEADERS, FrameFlag.END_STREAM | FrameFlag.PADDED, 1, hex('02 8286 0000')),
    encodeContinuation(1, Buffer.alloc(0), false),
    encodeContinuation(1, hex('84'), false),
    encodeContinuation(1, hex('41'), true),
  ]);
  assert.equal(readInPieces(bytes, []), [['HEADERS', 1, true, '82868441', 0]]);
});
continuation('any other frame inside a field block is PROTOCOL_ERROR', () => {
  const open = encodeFrame(FrameType.HEADERS, 0, 1, hex('82'));
  connectionError(Buffer.concat([open, encodePing(Buffer.alloc(8))]), 'ERR_H2_EXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
  connectionError(Buffer.concat([open, encodeContinuation(3, hex('84'), true)]), 'ERR_H2_EXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
  connectionError(Buffer.concat([open, encodeFrame(0xfa, 0, 1)]), 'ERR_H2_EXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
  connectionError(Buffer.concat([open, encodeData(1, hex('00'), false)]), 'ERR_H2_EXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
});
continuation('CONTINUATION without an open block is PROTOCOL_ERROR', () => {
  connectionError(encodeContinuation(1, hex('82'), true), 'ERR_H2_UNEXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
  connectionError(Buffer.concat([encodeHeaders(1, hex('82')), encodeContinuation(1, hex('82'), true)]), 'ERR_H2_UNEXPECTED_CONTINUATION', ErrorCode.PROTOCOL_ERROR);
});
continuation('a CONTINUATION flood is cut off at maxFieldBlockSize (CVE-2024-27316)', () => {
  const recorder = new Recorder();
  const reader = new FrameReader(recorder, { maxFieldBlockSize: 100000 });
  reader.push(encodeFrame(FrameType.HEADERS, 0, 1, Buffer.alloc(16384)));
  let sent = 16384;
  try {
    for (;;) {
      reader.push(encodeContinuation(1, Buffer.alloc(16384), false));
      sent += 16384;
      assert.ok(sent < 200000, 'not cut off');
    }
  } catch (error) {
    assert.is((error as Http2Error).code, 'ERR_H2_FIELD_BLOCK_TOO_LARGE');
    assert.is((error as Http2Error).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  }
  assert.is(sent, 16384 * 6);
  assert.equal(recorder.events, []);
});

continuation('empty CONTINUATIONs are cut off at maxContinuationFrames', () => {
  const reader = new FrameReader(new Recorder());
  reader.push(encodeFrame(FrameType.HEADERS, 0, 1, hex('82')));
  let frames = 0;
  try {
    for (; frames < 1000; frames++) reader.push(encodeContinuation(1, Buffer.alloc(0), false));
  } catch (error) {
    assert.is((error as Http2Error).code, 'ERR_H2_TOO_MANY_CONTINUATIONS');
    assert.is((error as Http2Error).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  }
  assert.is(frames, 64);
  // At the limit, a block still completes.
  const ok = Buffer.concat([encodeFrame(FrameType.HEADERS, 0, 1, hex('82')), ...Array.from({ length: 63 }, () => encodeContinuation(1, Buffer.alloc(0), false)), encodeContinuation(1, hex('84'), true)]);
  assert.equal(readInPieces(ok, []), [['HEADERS', 1, false, '8284', 0]]);
});
continuation('a single HEADERS frame is held to maxFieldBlockSize too', () => {
  connectionError(encodeHeaders(1, Buffer.alloc(2000)), 'ERR_H2_FIELD_BLOCK_TOO_LARGE', ErrorCode.ENHANCE_YOUR_CALM, { maxFieldBlockSize: 1000 });
  assert.equal(readInPieces(encodeHeaders(1, hex('82')), [], { maxFieldBlockSize: 1 }), [['HEADERS', 1, false, '82', 0]]);
});

const writer = suite('frame encoders');
writer('field blocks are split to the peer max frame size', () => {
  const frame = encodeHeaders(1, block(16384 * 2 + 1), { endStream: true });
  assert.is(frame.length, 3 * 9 + 16384 * 2 + 1);
  assert.is(frame.readUIntBE(0, 3), 16384);
  assert.is(frame[4], FrameFlag.END_STREAM); // no END_HEADERS on the first
  assert.is(frame[9 + 16384 + 3], FrameType.CONTINUATION);
  assert.is(frame[9 + 16384 + 4], 0);
  assert.is(frame[2 * (9 + 16384) + 4], FrameFlag.END_HEADERS);
  assert.is(encodeHeaders(1, block(10), { maxFrameSize: 16384 })[4], FrameFlag.END_HEADERS);
});
writer('argument ranges are checked', () => {
  const invalid = (fn: () => unknown) => assert.throws(fn, (e: Http2Error) => e.code === 'ERR_H2_INVALID_ARGUMENT');
  invalid(() => encodeData(0, Buffer.alloc(1), false));
  invalid(() => encodeData(1, Buffer.alloc(1), false, 256));
  invalid(() => encodeWindowUpdate(1, 0));
  invalid(() => encodeWindowUpdate(1, 2 ** 31));
  invalid(() => encodePing(Buffer.alloc(7)));
  invalid(() => encodePriority(1, { dependsOn: 0, weight: 0 }));
  invalid(() => encodeHeaders(2 ** 31, Buffer.alloc(1)));
  invalid(() => encodePushPromise(1, 0, Buffer.alloc(1)));
});

roundTrip.run();
sizes.run();
ids.run();
padding.run();
settings.run();
continuation.run();
writer.run();
