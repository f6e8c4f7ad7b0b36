// hpack-test-case (https://github.com/http2jp/hpack-test-case): every implementation's wire data
// must decode to the expected header lists, and our encoder must interoperate with hpack.js.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HpackDecoder, HpackEncoder } from '../src/hpack/index.js';

const require = createRequire(import.meta.url);
interface HpackJsHeader {
  name: string;
  value: string;
}
interface HpackJsStream {
  write(data: unknown): void;
  read(): Buffer | HpackJsHeader | null;
  execute(): void;
}
const hpackJs = require('hpack.js') as {
  compressor: { create(options: { table: { maxSize: number } }): HpackJsStream };
  decompressor: { create(options: { table: { maxSize: number } }): HpackJsStream };
};

interface StoryCase {
  seqno?: number;
  header_table_size?: number | null;
  wire?: string;
  headers: Array<Record<string, string>>;
}
interface Story {
  cases: StoryCase[];
}

const testdata = process.env.SLUICE_TESTDATA ?? resolve(import.meta.dirname, '../../../../shared/testdata');
const corpus = join(testdata, 'hpack-test-case');
const present = existsSync(join(corpus, 'raw-data'));

function flat(headers: Array<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const field of headers) for (const name in field) out.push(name, field[name]);
  return out;
}

function stories(dir: string): Array<{ file: string; story: Story }> {
  return readdirSync(join(corpus, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file: `${dir}/${file}`, story: JSON.parse(readFileSync(join(corpus, dir, file), 'utf8')) as Story }));
}

function hpackJsDecode(decompressor: HpackJsStream, block: Buffer): string[] {
  decompressor.write(block);
  decompressor.execute();
  const out: string[] = [];
  for (let field = decompressor.read(); field !== null; field = decompressor.read()) {
    const { name, value } = field as HpackJsHeader;
    out.push(name, value);
  }
  return out;
}

function hpackJsEncode(compressor: HpackJsStream, headers: string[]): Buffer {
  const list: HpackJsHeader[] = [];
  for (let i = 0; i < headers.length; i += 2) list.push({ name: headers[i], value: headers[i + 1] });
  compressor.write(list);
  const chunks: Buffer[] = [];
  for (let chunk = compressor.read(); chunk !== null; chunk = compressor.read()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

if (!present) {
  console.log(`SKIPPED: hpack-test-case conformance (corpus not found at ${corpus})`);
  const skipped = suite('hpack-test-case (skipped)');
  skipped('corpus absent', () => {});
  skipped.run();
} else {
  const implementations = readdirSync(corpus, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'raw-data')
    .map((d) => d.name)
    .sort();
  const rawStories = stories('raw-data');

  const decoding = suite('decoding every implementation story');
  decoding('all cases decode to the expected header lists, table carried over', () => {
    let cases = 0;
    for (const implementation of implementations) {
      for (const { file, story } of stories(implementation)) {
        const decoder = new HpackDecoder();
        for (const c of story.cases) {
          if (c.header_table_size != null) decoder.setMaxTableSize(c.header_table_size);
          let actual: string[];
          try {
            actual = decoder.decode(Buffer.from(c.wire!, 'hex'));
          } catch (error) {
            throw new Error(`${file} case ${c.seqno}: ${(error as Error).message}`);
          }
          const expected = flat(c.headers);
          if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
            assert.equal(actual, expected, `${file} case ${c.seqno}`);
          }
          cases++;
        }
      }
    }
    assert.is(implementations.length, 14);
    assert.is(cases, 47142);
  });

  const encoding = suite('our encoder against our decoder and hpack.js');
  for (const tableSize of [4096, 512, 0]) {
    encoding(`raw-data stories round-trip with a ${tableSize}-octet table`, () => {
      let cases = 0;
      for (const { file, story } of rawStories) {
        const encoder = new HpackEncoder({ maxTableSize: tableSize });
        const ours = new HpackDecoder();
        const theirs = hpackJs.decompressor.create({ table: { maxSize: 4096 } });
        for (const [n, c] of story.cases.entries()) {
          const headers = flat(c.headers);
          const block = encoder.encode(headers);
          assert.equal(ours.decode(block), headers, `${file} case ${n}: our decoder`);
          assert.equal(hpackJsDecode(theirs, block), headers, `${file} case ${n}: hpack.js`);
          cases++;
        }
      }
      assert.ok(cases > 3000, `${cases} cases`);
    });
  }

  encoding('hpack.js output decodes through ours', () => {
    let cases = 0;
    for (const { file, story } of rawStories) {
      const compressor = hpackJs.compressor.create({ table: { maxSize: 4096 } });
      const decoder = new HpackDecoder();
      for (const [n, c] of story.cases.entries()) {
        const headers = flat(c.headers);
        assert.equal(decoder.decode(hpackJsEncode(compressor, headers)), headers, `${file} case ${n}`);
        cases++;
      }
    }
    assert.ok(cases > 3000, `${cases} cases`);
  });

  decoding.run();
  encoding.run();
}
