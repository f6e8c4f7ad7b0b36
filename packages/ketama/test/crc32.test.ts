import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { crc32, KetamaError } from '../src/index.js';

const nativeCrc32 = (zlib as { crc32?: (data: string | Uint8Array) => number }).crc32;

const known = suite('crc32: known values');

known('check values of CRC-32/ISO-HDLC (the zlib and nginx CRC)', () => {
  assert.is(crc32(''), 0);
  assert.is(crc32('a'), 0xe8b7be43);
  assert.is(crc32('123456789'), 0xcbf43926);
  assert.is(crc32('The quick brown fox jumps over the lazy dog'), 0x414fa339);
  assert.is(crc32(new Uint8Array([0, 0, 0, 0])), 0x2144df1c);
  assert.is(crc32(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
});

known('the result is unsigned', () => {
  for (let i = 0; i < 200; i++) {
    const value = crc32(`key-${i}`);
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `crc32(key-${i}) = ${value}`);
  }
});

const utf8 = suite('crc32: strings hash as their UTF-8 bytes');

utf8('BMP, astral and lone surrogates agree with Buffer.from(string)', () => {
  const samples = ['é', '€', 'ü/straße', '日本語', '😀', 'a😀b', '\ud800', 'x\udc00y', '\ud83d', '\udc00\ud800', 'ÿ'];
  for (const text of samples) assert.is(crc32(text), crc32(Buffer.from(text, 'utf8')), JSON.stringify(text));
});

utf8('short and long inputs (the native path) agree with a reference', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (const length of [0, 1, 3, 31, 95, 96, 97, 200, 1000, 5000]) {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(random() < 0.9 ? 32 + Math.floor(random() * 95) : Math.floor(random() * 0xffff));
    // A bitwise CRC as the independent reference.
    const reference = (data: Uint8Array) => {
      let c = 0xffffffff;
      for (const byte of data) {
        c ^= byte;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    assert.is(crc32(bytes), reference(bytes), `bytes of length ${length}`);
    assert.is(crc32(text), reference(Buffer.from(text, 'utf8')), `text of length ${length}`);
    if (nativeCrc32) assert.is(crc32(text), nativeCrc32(text) >>> 0, `native, text of length ${length}`);
  }
});

utf8('a Buffer view hashes only its own bytes', () => {
  const whole = Buffer.from('xxhello worldyy');
  assert.is(crc32(whole.subarray(2, 13)), crc32('hello world'));
});

const keys = suite('crc32: keys of the wrong type');

keys('throw ERR_KETAMA_INVALID_KEY', () => {
  for (const bad of [42, null, undefined, {}, ['a'], new ArrayBuffer(4)]) {
    try {
      crc32(bad as unknown as string);
      assert.unreachable(`accepted ${String(bad)}`);
    } catch (error) {
      assert.instance(error, KetamaError);
      assert.is((error as KetamaError).code, 'ERR_KETAMA_INVALID_KEY');
    }
  }
});

known.run();
utf8.run();
keys.run();
