import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HpackDecoder, HpackEncoder, Http2Error, ErrorCode } from '../src/hpack/index.js';
import { DynamicTable } from '../src/hpack/dynamic-table.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function throwsCode(fn: () => unknown, code: string, errorCode: number = ErrorCode.COMPRESSION_ERROR): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, Http2Error);
    assert.is((error as Http2Error).code, code, (error as Error).message);
    assert.is((error as Http2Error).errorCode, errorCode);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

// RFC 7541 Appendix C: wire octets, the fields they carry, and the table size afterwards.
const requests = [
  [[':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'], 57],
  [[':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com', 'cache-control', 'no-cache'], 110],
  [[':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'], 164],
] as const;
const requestsPlain = [
  '828684410f7777772e6578616d706c652e636f6d',
  '828684be58086e6f2d6361636865',
  '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
];
const requestsHuffman = [
  '828684418cf1e3c2e5f23a6ba0ab90f4ff',
  '828684be5886a8eb10649cbf',
  '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
];
const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const date2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const responses = [
  [[':status', '302', 'cache-control', 'private', 'date', date1, 'location', 'https://www.example.com'], 222],
  [[':status', '307', 'cache-control', 'private', 'date', date1, 'location', 'https://www.example.com'], 222],
  [
    [':status', '200', 'cache-control', 'private', 'date', date2, 'location', 'https://www.example.com',
      'content-encoding', 'gzip', 'set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    215,
  ],
] as const;
const responsesPlain = [
  '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
  '4803333037c1c0bf',
  '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
];
const responsesHuffman = [
  '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
  '4883640effc1c0bf',
  '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
];

const appendix = suite('RFC 7541 Appendix C examples');
appendix('C.2 literal and indexed field representations', () => {
  const decoder = new HpackDecoder();
  assert.equal(decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572')), ['custom-key', 'custom-header']);
  assert.is(decoder.tableSize, 55);
  assert.equal(new HpackDecoder().decode(hex('040c2f73616d706c652f70617468')), [':path', '/sample/path']);
  const never: number[] = [];
  const d = new HpackDecoder();
  assert.equal(d.decode(hex('100870617373776f726406736563726574'), [], never), ['password', 'secret']);
  assert.equal(never, [0]);
  assert.is(d.tableSize, 0);
  assert.equal(new HpackDecoder().decode(hex('82')), [':method', 'GET']);
  // Any Uint8Array will do, not only Buffers.
  assert.equal(new HpackDecoder().decode(new Uint8Array(hex('040c2f73616d706c652f70617468'))), [':path', '/sample/path']);
});
for (const [label, wires] of [['C.3 without', requestsPlain], ['C.4 with', requestsHuffman]] as const) {
  appendix(`${label} Huffman: request blocks decode, and our encoder produces the same octets`, () => {
    const decoder = new HpackDecoder();
    const encoder = new HpackEncoder({ huffman: label.startsWith('C.3') ? 'never' : 'auto' });
    for (let i = 0; i < 3; i++) {
      const [fields, size] = requests[i];
      assert.equal(decoder.decode(hex(wires[i])), [...fields]);
      assert.is(decoder.tableSize, size);
      assert.is(encoder.encode(fields).toString('hex'), wires[i], `request ${i + 1}`);
      assert.is(encoder.tableSize, size);
    }
  });
}
for (const [label, wires] of [['C.5 without', responsesPlain], ['C.6 with', responsesHuffman]] as const) {
  appendix(`${label} Huffman: response blocks with a 256-octet table and eviction`, () => {
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    const encoder = new HpackEncoder({ maxTableSize: 256, setCookie: 'indexed', huffman: label.startsWith('C.5') ? 'never' : 'auto' });
    for (let i = 0; i < 3; i++) {
      const [fields, size] = responses[i];
      assert.equal(decoder.decode(hex(wires[i])), [...fields]);
      assert.is(decoder.tableSize, size);
      // The encoder first tells a default (4096) decoder that its table is 256: 3f e1 01.
      const expected = (i === 0 ? '3fe101' : '') + wires[i];
      assert.is(encoder.encode(fields).toString('hex'), expected, `response ${i + 1}`);
      assert.is(encoder.tableSize, size);
    }
  });
}
appendix('C.1 integers: 1337 with a 5-bit prefix is 1f 9a 0a (as a size update)', () => {
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1337);
  assert.is(encoder.encode([]).toString('hex'), '3f9a0a');
  const decoder = new HpackDecoder();
  decoder.decode(hex('3f9a0a'));
  assert.is(decoder.tableCapacity, 1337);
  assert.equal(new HpackDecoder().decode(hex('2a')), []); // 10 with a 5-bit prefix (size update to 10)
});

const errors = suite('decoder errors are COMPRESSION_ERROR');
errors('index 0 and indices beyond the tables', () => {
  throwsCode(() => new HpackDecoder().decode(hex('80')), 'ERR_HPACK_INVALID_INDEX');
  throwsCode(() => new HpackDecoder().decode(hex('be')), 'ERR_HPACK_INVALID_INDEX'); // 62, table empty
  throwsCode(() => new HpackDecoder().decode(hex('7f0003616263')), 'ERR_HPACK_INVALID_INDEX'); // name index 63
  const decoder = new HpackDecoder();
  decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
  assert.equal(decoder.decode(hex('be')), ['custom-key', 'custom-header']);
  throwsCode(() => decoder.decode(hex('bf')), 'ERR_HPACK_INVALID_INDEX');
});
errors('oversize and overlong integers', () => {
  throwsCode(() => new HpackDecoder().decode(hex('ffffffffff0f')), 'ERR_HPACK_INTEGER_OVERFLOW');
  throwsCode(() => new HpackDecoder().decode(hex('ff808080808000')), 'ERR_HPACK_INTEGER_OVERFLOW');
  throwsCode(() => new HpackDecoder().decode(hex('ff')), 'ERR_HPACK_TRUNCATED');
  throwsCode(() => new HpackDecoder().decode(hex('ff80')), 'ERR_HPACK_TRUNCATED');
});
errors('strings running past the block end', () => {
  throwsCode(() => new HpackDecoder().decode(hex('400a6375')), 'ERR_HPACK_TRUNCATED');
  throwsCode(() => new HpackDecoder().decode(hex('04ff')), 'ERR_HPACK_TRUNCATED');
});
errors('invalid Huffman: EOS, zero padding, padding over 7 bits', () => {
  throwsCode(() => new HpackDecoder().decode(hex('0484fffffffc')), 'ERR_HPACK_INVALID_HUFFMAN');
  throwsCode(() => new HpackDecoder().decode(hex('048118')), 'ERR_HPACK_INVALID_HUFFMAN');
  throwsCode(() => new HpackDecoder().decode(hex('04821fff')), 'ERR_HPACK_INVALID_HUFFMAN');
  assert.equal(new HpackDecoder().decode(hex('04811f')), [':path', 'a']);
});
errors('table size updates: only at block start, never above the SETTINGS limit', () => {
  throwsCode(() => new HpackDecoder().decode(hex('8220')), 'ERR_HPACK_LATE_SIZE_UPDATE');
  throwsCode(() => new HpackDecoder().decode(hex('3fe21f')), 'ERR_HPACK_TABLE_SIZE_EXCEEDED'); // 4097
  const decoder = new HpackDecoder();
  assert.equal(decoder.decode(hex('203fe11f82')), [':method', 'GET']); // 0 then 4096: two updates are fine
  assert.is(decoder.tableCapacity, 4096);
  const big = new HpackDecoder({ maxTableSize: 65536 });
  big.decode(hex('3fe1ff03')); // 65536
  assert.is(big.tableCapacity, 65536);
});
errors('a SETTINGS decrease requires a size update at the next block start', () => {
  const decoder = new HpackDecoder();
  decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
  decoder.setMaxTableSize(100);
  throwsCode(() => decoder.decode(hex('82')), 'ERR_HPACK_SIZE_UPDATE_MISSING');
  const again = new HpackDecoder();
  again.setMaxTableSize(100);
  throwsCode(() => again.decode(hex('3f46')), 'ERR_HPACK_TABLE_SIZE_EXCEEDED'); // 31 + 70 = 101
  assert.equal(again.decode(hex('3f4582')), [':method', 'GET']);
  assert.is(again.tableCapacity, 100);
  assert.equal(again.decode(hex('82')), [':method', 'GET']);
  const up = new HpackDecoder();
  up.setMaxTableSize(8192); // an increase needs no update
  assert.equal(up.decode(hex('82')), [':method', 'GET']);
});

const bombs = suite('HPACK bombs and list size limits');
bombs('one big entry referenced many times is refused once the list passes the limit', () => {
  const decoder = new HpackDecoder({ maxHeaderListSize: 65536 });
  const value = 'x'.repeat(4000);
  const insert = Buffer.concat([hex('400178'), Buffer.from([0x7f, 4000 - 127 - 0x80 * Math.floor((4000 - 127) / 128) + 0x80, Math.floor((4000 - 127) / 128)]), Buffer.from(value)]);
  assert.equal(decoder.decode(insert), ['x', value]);
  // 4096 one-octet references to that entry would decode to ~16 MB.
  const bomb = Buffer.alloc(4096, 0xbe);
  let fields = 0;
  const out: string[] = [];
  try {
    decoder.decode(bomb, out);
  } catch (error) {
    assert.is((error as Http2Error).code, 'ERR_HPACK_HEADER_LIST_TOO_LARGE');
    assert.is((error as Http2Error).errorCode, ErrorCode.COMPRESSION_ERROR);
    fields = out.length / 2;
  }
  assert.is(fields, Math.floor(65536 / (1 + 4000 + 32)), 'stopped at the limit, not after');
});
bombs('a literal longer than the limit is refused before it is read', () => {
  const decoder = new HpackDecoder({ maxHeaderListSize: 1000 });
  const block = Buffer.concat([hex('0001617f8107'), Buffer.alloc(1024, 0x61)]); // value of 1024 octets
  throwsCode(() => decoder.decode(block), 'ERR_HPACK_HEADER_LIST_TOO_LARGE');
  // 1025 Huffman octets of 5-bit '0' codes: 1640 octets decoded, refused after decoding to scratch.
  const huffman = Buffer.concat([hex('000161ff8207'), Buffer.alloc(1025, 0x00)]);
  throwsCode(() => decoder.decode(huffman), 'ERR_HPACK_HEADER_LIST_TOO_LARGE');
  // 4000 Huffman octets decode to at least 1066 octets: refused before decoding.
  const long = Buffer.concat([hex('000161ffa11e'), Buffer.alloc(4000, 0x00)]);
  throwsCode(() => decoder.decode(long), 'ERR_HPACK_HEADER_LIST_TOO_LARGE');
});
bombs('the limit counts name + value + 32 per field (RFC 9113 §6.5.2)', () => {
  const decoder = new HpackDecoder({ maxHeaderListSize: 42 + 42 });
  assert.equal(decoder.decode(hex('8282')), [':method', 'GET', ':method', 'GET']); // 42 each
  throwsCode(() => decoder.decode(hex('828282')), 'ERR_HPACK_HEADER_LIST_TOO_LARGE');
});

const encoding = suite('encoder representations');
encoding('authorization, proxy-authorization and short cookies are never indexed', () => {
  const encoder = new HpackEncoder();
  const block = encoder.encode(['authorization', 'Bearer abc', 'cookie', 'a=1', 'cookie', 'session=0123456789abcdefghij']);
  assert.is(block[0], 0x1f); // 0001 1111 then 23 - 15 = 8
  assert.is(block[1], 0x08);
  const never: number[] = [];
  const decoder = new HpackDecoder();
  assert.equal(decoder.decode(block, [], never), ['authorization', 'Bearer abc', 'cookie', 'a=1', 'cookie', 'session=0123456789abcdefghij']);
  assert.equal(never, [0, 2]);
  assert.is(decoder.tableLength, 1, 'only the long cookie was indexed');
  const again = encoder.encode(['proxy-authorization', 'Basic x']);
  assert.is(again[0] & 0xf0, 0x10);
});
encoding('set-cookie follows the configured policy', () => {
  const fields = ['set-cookie', 'id=a3fWa; Max-Age=2592000'];
  const check = (policy: 'never-indexed' | 'without-indexing' | 'indexed', high: number, stored: number) => {
    const never: number[] = [];
    const decoder = new HpackDecoder();
    const block = new HpackEncoder({ setCookie: policy }).encode(fields);
    assert.is(block[0] & 0xf0, high, policy);
    assert.equal(decoder.decode(block, [], never), fields);
    assert.is(decoder.tableLength, stored, policy);
    assert.equal(never, policy === 'never-indexed' ? [0] : []);
  };
  check('never-indexed', 0x10, 0);
  check('without-indexing', 0x00, 0);
  check('indexed', 0x70, 1); // 01 + index 55 in 6 bits = 0x77
  throwsCode(() => new HpackEncoder({ setCookie: 'bogus' as 'indexed' }), 'ERR_HPACK_INVALID_OPTION', ErrorCode.INTERNAL_ERROR);
});
encoding('never-indexed positions from a decoder are kept when re-encoding (RFC 7541 §6.2.3)', () => {
  const fields = ['x-secret', 'hunter2', 'x-public', 'ok'];
  const block = new HpackEncoder().encode(fields, [0]);
  const never: number[] = [];
  assert.equal(new HpackDecoder().decode(block, [], never), fields);
  assert.equal(never, [0]);
});
encoding('repeated fields become one-octet indices; big fields are not indexed', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const fields = ['x-trace', 'abc123', 'user-agent', 'sluice'];
  decoder.decode(encoder.encode(fields));
  const second = encoder.encode(fields);
  assert.is(second.toString('hex'), 'bfbe');
  assert.equal(decoder.decode(second), fields);
  const huge = ['x-big', 'y'.repeat(3500)];
  const block = encoder.encode(huge);
  assert.is(block[0], 0x00, 'sent without indexing: it would flush the table');
  assert.equal(decoder.decode(block), huge);
  assert.is(encoder.encode(fields).toString('hex'), 'bfbe', 'table untouched');
});
encoding('a name with many values in the table: repeats found, evictions tracked', () => {
  const encoder = new HpackEncoder({ maxTableSize: 1024 });
  const decoder = new HpackDecoder();
  const path = (i: number) => `/assets/${String(i).padStart(2, '0')}/file`; // entries of 6 + 15 + 32 = 53 octets
  for (let i = 0; i < 30; i++) assert.equal(decoder.decode(encoder.encode(['x-path', path(i)])), ['x-path', path(i)]);
  // 1024 octets hold the newest 19: paths 11..29. Newest first, so path 29 is index 62.
  for (let i = 11; i < 30; i++) {
    const block = encoder.encode(['x-path', path(i)]);
    assert.is(block.toString('hex'), (0x80 | (62 + 29 - i)).toString(16), `path ${i}`);
    assert.equal(decoder.decode(block), ['x-path', path(i)]);
  }
  for (let i = 0; i < 11; i++) {
    const block = encoder.encode(['x-path', path(i)]);
    assert.ok(block.length > 1, `path ${i} was evicted: sent as a literal`);
    assert.equal(decoder.decode(block), ['x-path', path(i)]);
  }
  assert.is(encoder.tableSize, 19 * 53);
  assert.is(decoder.tableSize, 19 * 53);
});
encoding('octets 0x80-0xff round-trip as latin1; chars above 255 are refused', () => {
  const value = Array.from({ length: 128 }, (_, i) => String.fromCharCode(128 + i)).join('');
  assert.equal(new HpackDecoder().decode(new HpackEncoder().encode(['x-bin', value])), ['x-bin', value]);
  throwsCode(() => new HpackEncoder().encode(['x-snow', '\u2603']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
  throwsCode(() => new HpackEncoder().encode(['x-snow', 'a'.repeat(200) + '\u2603']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
  throwsCode(() => new HpackEncoder({ huffman: 'never' }).encode(['x-snow', '\u2603']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
  const long = 'v'.repeat(300) + '\u00ff';
  assert.equal(new HpackDecoder().decode(new HpackEncoder().encode(['x-long', long])), ['x-long', long]);
  throwsCode(() => new HpackEncoder().encode(['odd']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
});
encoding('a refused field keeps the encoder usable unless the block had changed the table', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  // Nothing inserted before the bad field: the block is dropped, the encoder goes on.
  throwsCode(() => encoder.encode([':status', '200', 'x-bad', '\u2603']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
  assert.equal(decoder.decode(encoder.encode(['x-ok', '1'])), ['x-ok', '1']);
  // x-new was inserted before the bad field: the peer would never see it, so the encoder stops.
  throwsCode(() => encoder.encode(['x-new', '2', 'x-bad', '\u2603']), 'ERR_HPACK_INVALID_FIELD', ErrorCode.INTERNAL_ERROR);
  throwsCode(() => encoder.encode(['x-ok', '1']), 'ERR_HPACK_ENCODER_FAILED', ErrorCode.INTERNAL_ERROR);
});
encoding('size updates: smallest then final after a dip (RFC 7541 §4.2), table shrinks', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(['x-a', '1']));
  encoder.setMaxTableSize(0);
  encoder.setMaxTableSize(2048);
  const block = encoder.encode(['x-a', '1']);
  assert.is(block.subarray(0, 4).toString('hex'), '203fe10f'); // 0, then 2048
  assert.equal(decoder.decode(block), ['x-a', '1']);
  assert.is(decoder.tableCapacity, 2048);
  encoder.setMaxTableSize(100000); // the peer allows more than our 4096 limit: capped, no update
  assert.is(encoder.encode([':method', 'GET']).toString('hex'), '3fe11f82');
  assert.is(encoder.encode([':method', 'GET']).toString('hex'), '82');
});

const table = suite('dynamic table ring buffer');
table('inserts, evicts oldest first and wraps around', () => {
  const t = new DynamicTable(32 * 3 + 6); // three 2-octet entries
  for (let i = 0; i < 10; i++) t.add(`n${i}`, '');
  assert.is(t.length, 3);
  assert.equal([t.name(1), t.name(2), t.name(3)], ['n9', 'n8', 'n7']);
  assert.is(t.size, 3 * 34);
  assert.is(t.indexOfId(10), 1);
  assert.is(t.indexOfId(8), 3);
  assert.is(t.indexOfId(7), 0);
});
table('growing keeps order; an entry larger than the table empties it', () => {
  const t = new DynamicTable(70);
  t.add('a', '1');
  t.add('b', '2');
  t.add('c', '3'); // evicts a
  t.resize(4096);
  for (let i = 0; i < 50; i++) t.add(`k${i}`, 'v');
  assert.is(t.name(52), 'b');
  assert.is(t.name(1), 'k49');
  t.add('huge', 'z'.repeat(5000));
  assert.is(t.length, 0);
  assert.is(t.size, 0);
  t.resize(0);
  t.add('a', 'b');
  assert.is(t.length, 0);
});

appendix.run();
errors.run();
bombs.run();
encoding.run();
table.run();
