// @sluice/http2/hpack against hpack.js: encode the hpack-test-case raw-data header lists, and decode
// the nghttp2 encoder's wire data of the same stories (one fresh context per story, blocks in order,
// as on a connection). Each side uses its own native representation: flat [name, value, …] arrays
// for ours, { name, value } objects for hpack.js. Throughput medians (tinybench p50) over rounds;
// rme is tinybench's relative margin of error. Run: node --expose-gc --import tsx hpack.bench.ts
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Bench } from 'tinybench';
import { HpackDecoder, HpackEncoder } from '@sluice/http2/hpack';
import { median } from './lib/proc.js';

interface HpackJsHeader {
  name: string;
  value: string;
}
interface HpackJsStream {
  write(data: unknown): void;
  read(): unknown;
  execute(): void;
}
const hpackJs = createRequire(import.meta.url)('hpack.js') as {
  compressor: { create(options: { table: { maxSize: number } }): HpackJsStream };
  decompressor: { create(options: { table: { maxSize: number } }): HpackJsStream };
};

interface StoryCase {
  wire?: string;
  header_table_size?: number | null;
  headers: Array<Record<string, string>>;
}

const testdata = process.env.SLUICE_TESTDATA ?? resolve(import.meta.dirname, '../../shared/testdata');
const corpus = join(testdata, 'hpack-test-case');
const readStories = (dir: string): StoryCase[][] =>
  readdirSync(join(corpus, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => (JSON.parse(readFileSync(join(corpus, dir, f), 'utf8')) as { cases: StoryCase[] }).cases);
const flat = (headers: Array<Record<string, string>>): string[] =>
  headers.flatMap((field) => Object.entries(field).flat());

let lists: string[][][]; // stories of header lists
let source: string;
if (existsSync(join(corpus, 'raw-data'))) {
  lists = readStories('raw-data').map((story) => story.map((c) => flat(c.headers)));
  source = `hpack-test-case raw-data (${corpus})`;
} else {
  // Built-in realistic set: a browser's requests to one site and the server's responses.
  const request = (path: string, i: number) => [':method', 'GET', ':scheme', 'https', ':authority', 'www.example.com', ':path', path,
    'user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'accept-encoding', 'gzip, deflate, br',
    'accept-language', 'en-US,en;q=0.9', 'cookie', `session=a8f5f167f44f4964e6c998dee827110c; visit=${i}`, 'referer', 'https://www.example.com/'];
  const response = (i: number) => [':status', '200', 'date', `Sat, 21 Nov 2026 06:${String(i % 60).padStart(2, '0')}:00 GMT`,
    'content-type', 'text/html; charset=utf-8', 'content-length', String(1000 + i * 37), 'cache-control', 'private, max-age=0',
    'server', 'sluice', 'etag', `"${(i * 2654435761 >>> 0).toString(16)}"`, 'vary', 'accept-encoding'];
  lists = [
    Array.from({ length: 200 }, (_, i) => request(`/static/${i % 40}/app.${i}.js`, i)),
    Array.from({ length: 200 }, (_, i) => response(i)),
  ];
  source = 'built-in request/response set (corpus not found)';
}
const hpackJsLists = lists.map((story) =>
  story.map((list) => {
    const out: HpackJsHeader[] = [];
    for (let i = 0; i < list.length; i += 2) out.push({ name: list[i], value: list[i + 1] });
    return out;
  }),
);
// Wire data to decode: the same stories as nghttp2 encoded them, or (no corpus) as we encode them.
const wires: Buffer[][] = existsSync(join(corpus, 'nghttp2'))
  ? readStories('nghttp2').map((story) => story.map((c) => Buffer.from(c.wire!, 'hex')))
  : lists.map((story) => {
      const encoder = new HpackEncoder();
      return story.map((list) => encoder.encode(list));
    });
const blocks = lists.reduce((n, story) => n + story.length, 0);
const wireBlocks = wires.reduce((n, story) => n + story.length, 0);

let sink = 0;
const tasks: Record<string, () => void> = {
  'ours: encode': () => {
    for (const story of lists) {
      const encoder = new HpackEncoder();
      for (const list of story) sink ^= encoder.encode(list).length;
    }
  },
  'hpack.js: encode': () => {
    for (const story of hpackJsLists) {
      const compressor = hpackJs.compressor.create({ table: { maxSize: 4096 } });
      for (const list of story) {
        compressor.write(list);
        for (let chunk = compressor.read() as Buffer | null; chunk !== null; chunk = compressor.read() as Buffer | null) sink ^= chunk.length;
      }
    }
  },
  'ours: decode': () => {
    const out: string[] = [];
    for (const story of wires) {
      const decoder = new HpackDecoder();
      for (const block of story) {
        out.length = 0;
        sink ^= decoder.decode(block, out).length;
      }
    }
  },
  'hpack.js: decode': () => {
    for (const story of wires) {
      const decompressor = hpackJs.decompressor.create({ table: { maxSize: 4096 } });
      for (const block of story) {
        decompressor.write(block);
        decompressor.execute();
        for (let field = decompressor.read(); field !== null; field = decompressor.read()) sink ^= 1;
      }
    }
  },
};

// The machine is shared, so load drifts during a run: measure in interleaved rounds and take the
// median of the per-round ratios (each round runs ours and hpack.js back to back).
const ROUNDS = 7;
const perRound: Record<string, Array<{ p50: number; rme: number }>> = {};
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ name: `hpack round ${round + 1}`, time: 600, warmup: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    if (!('throughput' in r)) throw new Error(`${task.name}: ${r.state}`);
    (perRound[task.name] ??= []).push({ p50: r.throughput.p50, rme: r.throughput.rme });
  }
}

const rows = (['encode', 'decode'] as const).map((what) => {
  const ours = perRound[`ours: ${what}`];
  const peer = perRound[`hpack.js: ${what}`];
  const perRun = what === 'encode' ? blocks : wireBlocks;
  const ratios = ours.map((o, i) => o.p50 / peer[i].p50);
  return {
    operation: `${what} ${perRun} header blocks`,
    'ours blocks/s (p50)': Math.round(median(ours.map((o) => o.p50)) * perRun),
    'ours rme %': median(ours.map((o) => o.rme)).toFixed(1),
    'hpack.js blocks/s (p50)': Math.round(median(peer.map((o) => o.p50)) * perRun),
    'hpack.js rme %': median(peer.map((o) => o.rme)).toFixed(1),
    'ratio (ours / hpack.js)': median(ratios).toFixed(2) + 'x',
    'ratio range over rounds': `${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}`,
  };
});
console.log(`source: ${source}; ${lists.length} stories; ${ROUNDS} interleaved rounds; sink ${sink & 1}`);
console.table(rows);
