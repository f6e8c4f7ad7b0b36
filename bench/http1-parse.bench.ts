// HTTP/1 parser throughput: @sluice/http1's Http1Parser against Node's own llhttp binding (the
// HTTPParser of `_http_common`, what node:http uses), llhttp-wasm and http-parser-js, on a realistic
// corpus: a small GET, a browser GET with cookies, a chunked POST (3 × 1 KiB chunks and a trailer) and a
// response with many fields and a 2 KiB body. Each parser keeps one instance per direction and delivers
// the same things to JS: start line, fields as strings, body bytes, message end. Each task call parses
// its message(s) BATCH times; messages/s = BATCH × median calls/s (tinybench p50); rme is tinybench's
// relative margin of error. Other work shares this machine, so treat the figures as noisy.
// Run: cd bench && node --expose-gc --import tsx http1-parse.bench.ts
import { createRequire } from 'node:module';
import { Bench, type Task } from 'tinybench';
import { Http1Parser } from '@sluice/http1';
import type { RequestHeader, ResponseHeader } from '@sluice/core';

const require = createRequire(import.meta.url);
const BATCH = 100;

const smallGet = 'GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';
const browserGet =
  'GET /account/settings?tab=privacy&lang=en HTTP/1.1\r\n' +
  'Host: www.example.com\r\n' +
  'Connection: keep-alive\r\n' +
  'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"\r\n' +
  'sec-ch-ua-mobile: ?0\r\n' +
  'sec-ch-ua-platform: "Linux"\r\n' +
  'Upgrade-Insecure-Requests: 1\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n' +
  'Sec-Fetch-Site: same-origin\r\n' +
  'Sec-Fetch-Mode: navigate\r\n' +
  'Sec-Fetch-User: ?1\r\n' +
  'Sec-Fetch-Dest: document\r\n' +
  'Referer: https://www.example.com/account\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
  'Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n' +
  `Cookie: session=${'a1b2c3d4'.repeat(8)}; _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; prefs=${'x'.repeat(180)}; csrftoken=${'Z9'.repeat(32)}\r\n` +
  '\r\n';
const kib = 'x'.repeat(1024);
const chunkedPost =
  'POST /upload HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
  `400\r\n${kib}\r\n400\r\n${kib}\r\n400\r\n${kib}\r\n0\r\nX-Checksum: 5d41402abc4b2a76\r\n\r\n`;
const manyHeadersResponse =
  'HTTP/1.1 200 OK\r\n' +
  'Date: Sat, 21 Nov 2026 06:00:00 GMT\r\nServer: nginx/1.25.3\r\nContent-Type: text/html; charset=utf-8\r\n' +
  'Content-Length: 2048\r\nConnection: keep-alive\r\nVary: Accept-Encoding\r\nCache-Control: private, max-age=0, no-cache\r\n' +
  'Strict-Transport-Security: max-age=31536000; includeSubDomains; preload\r\nX-Frame-Options: SAMEORIGIN\r\n' +
  'X-Content-Type-Options: nosniff\r\nReferrer-Policy: strict-origin-when-cross-origin\r\n' +
  "Content-Security-Policy: default-src 'self'; img-src 'self' data: https:; script-src 'self' 'unsafe-inline'\r\n" +
  'Set-Cookie: session=abcdef0123456789; Path=/; HttpOnly; Secure; SameSite=Lax\r\n' +
  'Set-Cookie: theme=dark; Path=/; Max-Age=31536000\r\nETag: "5f2b-1a2b3c4d"\r\nLast-Modified: Fri, 20 Nov 2026 12:00:00 GMT\r\n' +
  'Accept-Ranges: bytes\r\nX-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\nAge: 0\r\nVia: 1.1 varnish\r\n' +
  `X-Cache: MISS\r\nX-Served-By: cache-fra-1234\r\n\r\n${'y'.repeat(2048)}`;

const corpus = {
  'small GET': { kind: 'request', data: Buffer.from(smallGet, 'latin1') },
  'browser GET (cookies)': { kind: 'request', data: Buffer.from(browserGet, 'latin1') },
  'chunked POST': { kind: 'request', data: Buffer.from(chunkedPost, 'latin1') },
  'response, many fields': { kind: 'response', data: Buffer.from(manyHeadersResponse, 'latin1') },
} as const;
type Kind = 'request' | 'response';

let sink = 0;
let messages = 0;

/** A parser under test: parse(kind, bytes) parses one complete message. */
type Subject = (kind: Kind, data: Buffer) => void;

function ours(): Subject {
  const handler = {
    onHead(head: RequestHeader | ResponseHeader) {
      sink += head.headers.size;
    },
    onBody(chunk: Buffer) {
      sink += chunk.length;
    },
    onTrailers() {},
    onMessageComplete() {
      messages++;
    },
  };
  const req = new Http1Parser('request', handler);
  const res = new Http1Parser('response', handler);
  return (kind, data) => void (kind === 'request' ? req : res).execute(data);
}

interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): unknown;
  [k: number]: unknown;
}
interface NodeParserClass {
  new (type?: number): NodeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

function nodeStyle(HTTPParser: NodeParserClass, init: (p: NodeParser, type: number) => void): Subject {
  const make = (type: number) => {
    const p = new HTTPParser(type);
    init(p, type);
    p[HTTPParser.kOnHeaders] = (h: string[]) => void (sink += h.length);
    p[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, h: string[] | undefined) => {
      sink += h ? h.length : 0;
      return 0;
    };
    p[HTTPParser.kOnBody] = (b: Buffer) => void (sink += b.length);
    p[HTTPParser.kOnMessageComplete] = () => void messages++;
    p[HTTPParser.kOnExecute] = () => {};
    return p;
  };
  const req = make(HTTPParser.REQUEST);
  const res = make(HTTPParser.RESPONSE);
  return (kind, data) => {
    const r = (kind === 'request' ? req : res).execute(data);
    if (r instanceof Error) throw r;
  };
}

function native(): Subject {
  const { HTTPParser } = require('_http_common') as { HTTPParser: NodeParserClass };
  return nodeStyle(HTTPParser, (p, type) => p.initialize(type, {}, 0, 0));
}

function httpParserJs(): Subject {
  const { HTTPParser } = require('http-parser-js') as { HTTPParser: NodeParserClass };
  return nodeStyle(HTTPParser, (p, type) => p.initialize(type, {}));
}

interface WasmParser {
  onHeadersComplete?: (m: { rawHeaders: string[] }) => number;
  onBody?: (b: Uint8Array) => number;
  onMessageComplete?: () => number;
  execute(data: Uint8Array): number;
}
function llhttpWasm(): Subject {
  const { createParser } = require('llhttp-wasm') as { createParser(t: string): WasmParser };
  const make = (t: string) => {
    const p = createParser(t);
    p.onHeadersComplete = (m) => {
      sink += m.rawHeaders.length;
      return 0;
    };
    p.onBody = (b) => {
      sink += b.length;
      return 0;
    };
    p.onMessageComplete = () => {
      messages++;
      return 0;
    };
    return p;
  };
  const req = make('REQUEST');
  const res = make('RESPONSE');
  return (kind, data) => {
    const r = (kind === 'request' ? req : res).execute(data);
    if (r !== 0) throw new Error(`llhttp-wasm error ${r}`);
  };
}

const subjects: Record<string, Subject> = {
  '@sluice/http1 (ours)': ours(),
  'node native llhttp': native(),
  'llhttp-wasm': llhttpWasm(),
  'http-parser-js': httpParserJs(),
};

// Every parser must parse every message completely before it is timed.
for (const [name, parse] of Object.entries(subjects)) {
  for (const [label, m] of Object.entries(corpus)) {
    const before = messages;
    parse(m.kind, m.data);
    if (messages !== before + 1) throw new Error(`${name} did not complete ${label}`);
  }
}

const bench = new Bench({ name: 'http1 parse', time: 1000, warmup: true });
const workloads: Record<string, Array<{ kind: Kind; data: Buffer }>> = { mix: Object.values(corpus) };
for (const [label, m] of Object.entries(corpus)) workloads[label] = [m];
for (const [workload, list] of Object.entries(workloads)) {
  for (const [name, parse] of Object.entries(subjects)) {
    bench.add(`${workload}: ${name}`, () => {
      for (let i = 0; i < BATCH; i++) for (let k = 0; k < list.length; k++) parse(list[k].kind, list[k].data);
    });
  }
}
await bench.run();

function stats(task: Task | undefined) {
  const r = task?.result;
  if (!r || !('throughput' in r)) throw new Error(`${task?.name}: ${r?.state}`);
  return r;
}

const rows: Record<string, string>[] = [];
for (const [workload, list] of Object.entries(workloads)) {
  const ourRate = stats(bench.getTask(`${workload}: @sluice/http1 (ours)`)).throughput.p50;
  const bytes = list.reduce((n, m) => n + m.data.length, 0);
  for (const name of Object.keys(subjects)) {
    const r = stats(bench.getTask(`${workload}: ${name}`));
    const rate = r.throughput.p50 * BATCH * list.length;
    rows.push({
      workload,
      parser: name,
      'messages/s (median)': `${(rate / 1e6).toFixed(3)} M`,
      'MB/s': ((r.throughput.p50 * BATCH * bytes) / 1e6).toFixed(0),
      rme: `±${r.throughput.rme.toFixed(1)}%`,
      'ratio ours/this': name.includes('ours') ? '1.00' : (ourRate / r.throughput.p50).toFixed(2),
    });
  }
}
console.log(`http1 parse: batches of ${BATCH}, Node ${process.version}, llhttp ${process.versions.llhttp} (sink ${sink % 10})`);
console.table(rows);
