// A deterministic corpus of valid HTTP/1.1 messages and mutations of them aimed at the places parsers
// disagree: split points, case, whitespace, Content-Length / Transfer-Encoding combinations and chunk
// edge cases, plus single-byte substitutions of the bytes that matter (CR, LF, NUL, SP, HTAB, DEL,
// obs-text, separators).

export interface Case {
  kind: 'request' | 'response';
  label: string;
  input: Buffer;
}

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

const REQUESTS = [
  'GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5\r\nAccept: */*\r\n\r\n',
  'POST /submit HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n',
  'PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\nDELETE /y HTTP/1.1\r\nConnection: close\r\n\r\n',
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\nSet-Cookie: a=b\r\n\r\nbody',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\nExpires: never\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nrest of stream',
  'HTTP/1.1 204 No Content\r\nDate: x\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
];

const FRAMING_REQUESTS: Array<[string, string]> = [];
const CL_VALUES = ['5', '05', '+5', '-5', '0x5', '5_', '_5', '', ' 5', '5 ', '5,5', '5, 5', '5 5', '\t5', '5\t', '1e1', '5.0', '\xa05', '5\xa0', '\x855', '99999999999999999999999'];
const TE_VALUES = ['chunked', 'Chunked', 'CHUNKED', ',chunked', 'chunked,', ' chunked', 'chunked, chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'identity, chunked', 'chunked;q=1', 'chunked\t', '\tchunked', 'chunk', 'chunkedx', 'x-chunked', 'gzip,chunked', ' , chunked', 'chunked, ', '\xa0chunked'];
const CHUNK_LINES = ['5', '05', '0x5', '+5', '-5', '5 ', ' 5', '5;a', '5;a=b', '5;a="b"', '5;a="b\\"c"', '5; a', '5 ;a', '5;a ', '5;a=', '5;=b', '5;a=b c', '5;a\r=b', '5;a=\r', 'A', 'a', '000005', '5;a="\x01"', '5;a=b;c', '5\t', '5;;'];

for (const cl of CL_VALUES) FRAMING_REQUESTS.push([`CL ${JSON.stringify(cl)}`, `POST / HTTP/1.1\r\nContent-Length: ${cl}\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n`]);
for (const [a, b] of [['5', '5'], ['5', '6'], ['5', ''], ['', '5'], ['5', '-1']]) FRAMING_REQUESTS.push([`CL dup ${a}/${b}`, `POST / HTTP/1.1\r\nContent-Length: ${a}\r\nContent-Length: ${b}\r\n\r\nhello`]);
for (const te of TE_VALUES) FRAMING_REQUESTS.push([`TE ${JSON.stringify(te)}`, `POST / HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`]);
for (const te of ['chunked', 'gzip']) {
  FRAMING_REQUESTS.push([`TE ${te} + CL`, `POST / HTTP/1.1\r\nTransfer-Encoding: ${te}\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n`]);
  FRAMING_REQUESTS.push([`CL + TE ${te}`, `POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`]);
}
FRAMING_REQUESTS.push(['TE two lines', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n']);
FRAMING_REQUESTS.push(['TE two lines reversed', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n']);
for (const line of CHUNK_LINES) FRAMING_REQUESTS.push([`chunk ${JSON.stringify(line)}`, `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${line}\r\nhello\r\n0\r\n\r\n`]);
for (const end of ['0\r\n\r\n', '0\n\n', '0\r\n\n', '0\r\r\n\r\n', '00\r\n\r\n', '0;x\r\n\r\n', '0\r\nA: b\r\n\r\n', '0\r\nA:b\r\n\r\n', '0\r\n A: b\r\n\r\n', '0\r\nA : b\r\n\r\n']) {
  FRAMING_REQUESTS.push([`last chunk ${JSON.stringify(end)}`, `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n${end}`]);
}
for (const after of ['\r\n', 'x\r\n', '\n', '\r', '\r\r\n']) FRAMING_REQUESTS.push([`after chunk data ${JSON.stringify(after)}`, `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx${after}0\r\n\r\n`]);

const INTERESTING = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x7f, 0x80, 0xa0, 0x85, 0xff, 0x3a, 0x2c, 0x3b, 0x22, 0x0b, 0x0c, 0x41, 0x7a, 0x30, 0x2d];

/** xorshift32: the same corpus on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function caseFlip(s: string, rand: () => number): string {
  let out = '';
  for (const ch of s) out += rand() < 0.3 ? (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) : ch;
  return out;
}

/** The corpus: framing cases, then `perMessage` byte mutations of every base message. */
export function mutationCorpus(perMessage = 400, seed = 0x5eed): Case[] {
  const rand = rng(seed);
  const cases: Case[] = [];
  for (const r of REQUESTS) cases.push({ kind: 'request', label: 'base', input: B(r) });
  for (const r of RESPONSES) cases.push({ kind: 'response', label: 'base', input: B(r) });
  for (const [label, r] of FRAMING_REQUESTS) {
    cases.push({ kind: 'request', label, input: B(r) });
    // The same framing on a response, where the rules differ (RFC 9112 §6.3 rules 3-8).
    const resp = r.replace(/^POST \/ HTTP\/1\.1/, 'HTTP/1.1 200 OK');
    cases.push({ kind: 'response', label: `response ${label}`, input: B(resp) });
  }
  // Case changes of whole field names and framing values.
  for (const r of [...REQUESTS, ...RESPONSES]) {
    for (let k = 0; k < 20; k++) {
      const lines = r.split('\r\n');
      const mutated = lines.map((l, i) => (i === 0 ? l : caseFlip(l, rand))).join('\r\n');
      cases.push({ kind: r.startsWith('HTTP/') ? 'response' : 'request', label: 'case', input: B(mutated) });
    }
  }
  // Whitespace and byte mutations at random offsets.
  for (const r of [...REQUESTS, ...RESPONSES, ...FRAMING_REQUESTS.map(([, x]) => x)]) {
    const kind = r.startsWith('HTTP/') ? 'response' : 'request';
    const base = B(r);
    for (let k = 0; k < perMessage; k++) {
      const at = Math.floor(rand() * base.length);
      const byte = INTERESTING[Math.floor(rand() * INTERESTING.length)];
      const op = rand();
      let input: Buffer;
      if (op < 0.4) input = Buffer.concat([base.subarray(0, at), Buffer.from([byte]), base.subarray(at)]);
      else if (op < 0.8) {
        input = Buffer.from(base);
        input[at] = byte;
      } else input = Buffer.concat([base.subarray(0, at), base.subarray(at + 1)]);
      cases.push({ kind, label: `mutate ${op < 0.4 ? 'insert' : op < 0.8 ? 'replace' : 'delete'} 0x${byte.toString(16)} at ${at}`, input });
    }
  }
  return cases;
}
