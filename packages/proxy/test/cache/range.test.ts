import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRange, contentRange, unsatisfiedContentRange, rangeView, multipartByteranges } from '../../src/cache/range.js';

const parse = suite('Range parsing (RFC 9110 §14.1.2, §14.2)');
const ranges = (value: string, length: number, maxRanges?: number) => {
  const r = parseRange(value, length, maxRanges === undefined ? {} : { maxRanges });
  return r.kind === 'satisfiable' ? r.ranges.map((x) => `${x.start}-${x.end}`).join(',') : r.kind;
};

parse('the RFC examples on a 10000-byte representation', () => {
  assert.is(ranges('bytes=0-499', 10000), '0-499');
  assert.is(ranges('bytes=500-999', 10000), '500-999');
  assert.is(ranges('bytes=-500', 10000), '9500-9999');
  assert.is(ranges('bytes=9500-', 10000), '9500-9999');
  assert.is(ranges('bytes=0-0,-1', 10000), '0-0,9999-9999');
  assert.is(ranges('bytes= 0-999, 4500-5499, -1000', 10000), '0-999,4500-5499,9000-9999');
  assert.is(ranges('bytes=500-600,601-999', 10000), '500-999');
  assert.is(ranges('bytes=500-700,601-999', 10000), '500-999');
});

parse('clipping and unsatisfiable ranges', () => {
  assert.is(ranges('bytes=0-99999', 100), '0-99');
  assert.is(ranges('bytes=-500', 100), '0-99');
  assert.is(ranges('bytes=100-', 100), 'unsatisfiable');
  assert.is(ranges('bytes=-0', 100), 'unsatisfiable');
  assert.is(ranges('bytes=200-300, 50-60', 100), '50-60');
});

parse('ignored: other units, bad syntax, last < first, too many ranges, empty body', () => {
  for (const v of ['items=0-1', 'bytes', 'bytes=', 'bytes=a-b', 'bytes=5-1', 'bytes=1', 'bytes=--1', 'bytes=-1-2', 'bytes=0x1-2']) {
    assert.is(ranges(v, 100), 'ignore', v);
  }
  assert.is(ranges('bytes=0-0,2-2,4-4', 100, 2), 'ignore');
  assert.is(ranges('bytes=0-0,2-2', 100, 2), '0-0,2-2');
  assert.is(ranges('bytes=0-1', 0), 'ignore');
  assert.is(parseRange(undefined, 10).kind, 'ignore');
  assert.is(ranges('BYTES=0-1', 100), '0-1');
});

parse('non-overlapping ranges keep the client order; overlapping ones are coalesced and sorted', () => {
  assert.is(ranges('bytes=50-59,0-9', 100), '50-59,0-9');
  assert.is(ranges('bytes=50-59,0-9,5-20', 100), '0-20,50-59');
});

parse('huge numbers stay exact enough and clip', () => {
  assert.is(ranges('bytes=0-99999999999999999999', 10), '0-9');
  assert.is(ranges('bytes=99999999999999999999-', 10), 'unsatisfiable');
});

const bodies = suite('206 and 416 bodies (RFC 9110 §14.4, §14.6)');

bodies('Content-Range values', () => {
  assert.is(contentRange({ start: 0, end: 499 }, 1234), 'bytes 0-499/1234');
  assert.is(unsatisfiedContentRange(1234), 'bytes */1234');
});

bodies('a single range is a view of the stored body', () => {
  const body = Buffer.from('0123456789');
  const view = rangeView(body, { start: 2, end: 4 });
  assert.is(view.toString(), '234');
  assert.is(view.buffer, body.buffer);
  body[2] = 0x41;
  assert.is(view.toString(), 'A34');
});

bodies('multipart/byteranges: exact bytes, views, length', () => {
  const body = Buffer.from('abcdefghijklmnopqrstuvwxyz');
  const m = multipartByteranges(body, [{ start: 0, end: 2 }, { start: 23, end: 25 }], 'text/plain', 'THIS_STRING_SEPARATES');
  const expected =
    '--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/26\r\n\r\nabc' +
    '\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 23-25/26\r\n\r\nxyz' +
    '\r\n--THIS_STRING_SEPARATES--\r\n';
  const joined = Buffer.concat(m.pieces).toString('latin1');
  assert.is(joined, expected);
  assert.is(m.length, Buffer.byteLength(expected));
  assert.is(m.contentType, 'multipart/byteranges; boundary=THIS_STRING_SEPARATES');
  assert.is(m.pieces[1].buffer, body.buffer);
  const noType = multipartByteranges(body, [{ start: 0, end: 0 }], undefined, 'b');
  assert.is(Buffer.concat(noType.pieces).toString(), '--b\r\nContent-Range: bytes 0-0/26\r\n\r\na\r\n--b--\r\n');
});

bodies('a bad boundary is a RangeError', () => {
  assert.throws(() => multipartByteranges(Buffer.from('x'), [{ start: 0, end: 0 }], undefined, 'bad\r\n'), /invalid boundary/);
  assert.throws(() => multipartByteranges(Buffer.from('x'), [{ start: 0, end: 0 }], undefined, ''), RangeError);
  assert.throws(() => multipartByteranges(Buffer.from('x'), [{ start: 0, end: 0 }], undefined, 'x'.repeat(71)), RangeError);
});

parse.run();
bodies.run();
