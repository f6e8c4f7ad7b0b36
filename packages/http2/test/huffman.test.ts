import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, maxHuffmanDecodedLength } from '../src/hpack/huffman.js';

function encode(value: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(value));
  const end = huffmanEncode(value, out, 0);
  assert.is(end, out.length, 'encodedLength matches what encode writes');
  return out;
}

function decode(bytes: Buffer): string | null {
  const out = Buffer.alloc(maxHuffmanDecodedLength(bytes.length) + 1);
  const n = huffmanDecode(bytes, 0, bytes.length, out);
  return n < 0 ? null : out.toString("latin1", 0, n);
}

const codes = suite('Huffman code (RFC 7541 Appendix B and C.4)');
codes('RFC 7541 C.4 strings encode to the published octets', () => {
  assert.is(encode('www.example.com').toString('hex'), 'f1e3c2e5f23a6ba0ab90f4ff');
  assert.is(encode('no-cache').toString('hex'), 'a8eb10649cbf');
  assert.is(encode('custom-key').toString('hex'), '25a849e95ba97d7f');
  assert.is(encode('custom-value').toString('hex'), '25a849e95bb8e8b4bf');
});
codes('RFC 7541 C.6 strings encode to the published octets', () => {
  assert.is(encode('302').toString('hex'), '6402');
  assert.is(encode('private').toString('hex'), 'aec3771a4b');
  assert.is(encode('Mon, 21 Oct 2013 20:13:21 GMT').toString('hex'), 'd07abe941054d444a8200595040b8166e082a62d1bff');
  assert.is(encode('https://www.example.com').toString('hex'), '9d29ad171863c78f0b97c8e9ae82ae43d3');
});
codes('every octet round-trips, alone and together', () => {
  let all = '';
  for (let c = 0; c < 256; c++) {
    const one = String.fromCharCode(c);
    assert.is(decode(encode(one)), one, `octet ${c}`);
    all += one;
  }
  assert.is(decode(encode(all)), all);
  assert.is(decode(encode(all + all.split('').reverse().join(''))), all + all.split('').reverse().join(''));
});
codes('random strings round-trip (seeded)', () => {
  let seed = 7;
  for (let n = 0; n < 2000; n++) {
    let s = '';
    const length = n % 70;
    for (let i = 0; i < length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += String.fromCharCode(n % 3 === 0 ? seed & 0xff : 32 + (seed % 95));
    }
    assert.is(decode(encode(s)), s);
  }
});
codes('chars above 255 are reported, not truncated', () => {
  assert.is(decode(encode('caf\u00e9')), 'caf\u00e9'); // é is one latin1 octet
  assert.is(huffmanEncodedLength('snow \u2603'), -1);
  assert.is(huffmanEncode('snow \u2603', Buffer.alloc(32), 0), -1);
});

const validation = suite('Huffman padding and EOS (RFC 7541 §5.2)');
validation('padding of one-bits up to 7 bits is accepted', () => {
  assert.is(decode(Buffer.from([0x1f])), 'a'); // 00011 + 111
  assert.is(decode(Buffer.alloc(0)), '');
});
validation('padding that is not the high bits of EOS is refused', () => {
  assert.is(decode(Buffer.from([0x18])), null); // 00011 + 000
  assert.is(decode(Buffer.from([0x1e])), null); // 00011 + 110
});
validation('padding longer than 7 bits is refused', () => {
  assert.is(decode(Buffer.from([0x1f, 0xff])), null); // 'a' + 11 one-bits
  assert.is(decode(Buffer.from([0xff])), null); // 8 one-bits, no symbol
});
validation('an EOS symbol inside the string is refused', () => {
  assert.is(decode(Buffer.from([0xff, 0xff, 0xff, 0xfc])), null); // 30 one-bits = EOS, then 00
  assert.is(decode(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff])), null); // 'a' then EOS
});

codes.run();
validation.run();
