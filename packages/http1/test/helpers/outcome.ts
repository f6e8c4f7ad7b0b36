// What a parser made of a byte stream, in a form every parser under test (ours, llhttp-wasm, Node's
// native llhttp binding, llhttp's fixture logs) can be reduced to and compared by.
import { createRequire } from 'node:module';
import type { HeaderMap, RequestHeader, ResponseHeader } from '@sluice/core';
import { H1ParseError, Http1Parser } from '../../src/index.js';

export interface Message {
  /** Method for requests, status code for responses. */
  method?: string;
  status?: number;
  url?: string;
  reason?: string;
  version: string;
  headers: Array<[string, string]>;
  body: string;
  trailers: Array<[string, string]>;
  complete: boolean;
}

export interface Outcome {
  messages: Message[];
  /** llhttp error code (22 for an upgrade pause, as llhttp reports it) and stream offset. */
  error?: { code: number; offset: number; ours?: string };
}

/** Which llhttp error codes each of our codes corresponds to. */
export const LLHTTP_CODES: Record<string, number[]> = {
  ERR_H1_INVALID_METHOD: [6],
  ERR_H1_INVALID_URL: [7],
  ERR_H1_INVALID_CONSTANT: [8],
  ERR_H1_INVALID_VERSION: [9],
  ERR_H1_UNSUPPORTED_VERSION: [9],
  ERR_H1_INVALID_STATUS: [13],
  ERR_H1_INVALID_HEADER_TOKEN: [10],
  ERR_H1_INVALID_HEADER_VALUE: [10],
  ERR_H1_OBS_FOLD: [10],
  ERR_H1_UNEXPECTED_SPACE: [30],
  ERR_H1_CR_EXPECTED: [25],
  ERR_H1_LF_EXPECTED: [2, 3],
  ERR_H1_INVALID_CONTENT_LENGTH: [11],
  ERR_H1_DUPLICATE_CONTENT_LENGTH: [4],
  ERR_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING: [11, 15],
  ERR_H1_INVALID_TRANSFER_ENCODING: [15],
  ERR_H1_UNKNOWN_TRANSFER_CODING: [15],
  ERR_H1_INVALID_CHUNK_SIZE: [12],
  ERR_H1_INVALID_CHUNK_EXTENSION: [2],
  ERR_H1_DATA_AFTER_CLOSE: [5],
  ERR_H1_INCOMPLETE_MESSAGE: [14],
  UPGRADE: [22],
};

export const LLHTTP_NAMES: Record<string, number> = {
  HPE_STRICT: 2, HPE_LF_EXPECTED: 3, HPE_UNEXPECTED_CONTENT_LENGTH: 4, HPE_CLOSED_CONNECTION: 5,
  HPE_INVALID_METHOD: 6, HPE_INVALID_URL: 7, HPE_INVALID_CONSTANT: 8, HPE_INVALID_VERSION: 9,
  HPE_INVALID_HEADER_TOKEN: 10, HPE_INVALID_CONTENT_LENGTH: 11, HPE_INVALID_CHUNK_SIZE: 12,
  HPE_INVALID_STATUS: 13, HPE_INVALID_EOF_STATE: 14, HPE_INVALID_TRANSFER_ENCODING: 15,
  HPE_PAUSED_UPGRADE: 22, HPE_PAUSED_H2_UPGRADE: 23, HPE_CR_EXPECTED: 25, HPE_UNEXPECTED_SPACE: 30,
  HPE_HEADER_OVERFLOW: 31,
};

function pairs(map: HeaderMap): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < map.size; i++) out.push([map.nameAt(i), map.valueAt(i)]);
  return out;
}

/**
 * Runs our parser over `input` cut at `cuts` (ascending offsets), calling finish() at the end when
 * `finish`, and answering onHead with "no body" when `skipBody`.
 */
export function runOurs(kind: 'request' | 'response', input: Buffer, cuts: number[] = [], opts: { finish?: boolean; skipBody?: boolean } = {}): Outcome {
  const messages: Message[] = [];
  let current: Message | null = null;
  let bodyParts: Buffer[] = [];
  const parser = new Http1Parser<RequestHeader | ResponseHeader>(kind, {
    onHead(head) {
      const m: Message = { version: head.version, headers: pairs(head.headers), body: '', trailers: [], complete: false };
      if ('method' in head) {
        m.method = head.method;
        m.url = head.uri;
      } else {
        m.status = head.status;
        m.reason = head.reason ?? '';
      }
      messages.push(m);
      current = m;
      bodyParts = [];
      return opts.skipBody === true;
    },
    onBody(chunk) {
      bodyParts.push(Buffer.from(chunk));
      if (current) current.body = Buffer.concat(bodyParts).toString('latin1');
    },
    onTrailers(trailers) {
      if (current) current.trailers = pairs(trailers);
    },
    onMessageComplete() {
      if (current) current.complete = true;
    },
  });
  const points = [0, ...cuts, input.length];
  let offset = 0;
  try {
    for (let k = 0; k + 1 < points.length; k++) {
      const piece = input.subarray(points[k], points[k + 1]);
      const used = parser.execute(piece);
      offset += used;
      if (parser.upgraded) return { messages, error: { code: 22, offset, ours: 'UPGRADE' } };
      if (used !== piece.length) throw new Error(`parser consumed ${used} of ${piece.length} without pausing`);
    }
    if (opts.finish) parser.finish();
  } catch (e) {
    if (e instanceof H1ParseError) return { messages, error: { code: LLHTTP_CODES[e.code]?.[0] ?? -1, offset: e.offset, ours: e.code } };
    throw e;
  }
  return { messages };
}

const require = createRequire(import.meta.url);

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string; bytesParsed: number });
  finish(): undefined | (Error & { code: string; bytesParsed: number });
  [key: number]: unknown;
}
interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}
const common = require('_http_common') as { HTTPParser: NativeParserClass; methods: string[] };
const NativeHTTPParser = common.HTTPParser;
/** llhttp's method numbering, as Node's binding reports it. */
const nativeMethods = common.methods;

function toPairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/** Runs Node's own llhttp binding (strict: no lenient flags) over `input` in one piece. */
export function runNative(kind: 'request' | 'response', input: Buffer, opts: { finish?: boolean; skipBody?: boolean } = {}): Outcome {
  const p = new NativeHTTPParser();
  p.initialize(kind === 'request' ? NativeHTTPParser.REQUEST : NativeHTTPParser.RESPONSE, {}, 64 * 1024, 0);
  const messages: Message[] = [];
  let current: Message | null = null;
  let flushed: string[] = [];
  let upgradeSeen = false;
  p[NativeHTTPParser.kOnHeaders] = (headers: string[]) => {
    if (current && !current.complete && current.headers.length >= 0 && (current as Message & { inBody?: boolean }).inBody) current.trailers.push(...toPairs(headers));
    else flushed.push(...headers);
  };
  p[NativeHTTPParser.kOnHeadersComplete] = (major: number, minor: number, headers: string[] | undefined, method: number, url: string, status: number, reason: string, upgrade: boolean) => {
    const all = flushed.concat(headers ?? []);
    flushed = [];
    const m: Message & { inBody?: boolean } = { version: `${major}.${minor}`, headers: toPairs(all), body: '', trailers: [], complete: false, inBody: true };
    if (kind === 'request') {
      m.method = nativeMethods[method];
      m.url = url;
    } else {
      m.status = status;
      m.reason = reason;
    }
    messages.push(m);
    current = m;
    upgradeSeen = upgrade;
    return opts.skipBody ? 1 : 0;
  };
  p[NativeHTTPParser.kOnBody] = (b: Buffer) => {
    if (current) current.body += b.toString('latin1');
  };
  p[NativeHTTPParser.kOnMessageComplete] = () => {
    if (current) current.complete = true;
  };
  const r = p.execute(input);
  for (const m of messages) delete (m as Message & { inBody?: boolean }).inBody;
  if (r instanceof Error) {
    return { messages, error: { code: LLHTTP_NAMES[r.code] ?? -1, offset: r.bytesParsed } };
  }
  const last = messages[messages.length - 1];
  if (upgradeSeen && last?.complete && typeof r === 'number') return { messages, error: { code: 22, offset: r } };
  if (opts.finish) {
    const f = p.finish();
    if (f instanceof Error) return { messages, error: { code: LLHTTP_NAMES[f.code] ?? -1, offset: input.length } };
  }
  return { messages };
}

function trimOws(pairs: Array<[string, string]>): Array<[string, string]> {
  return pairs.map(([n, v]) => [n, v.replace(/[ \t]+$/, '')]);
}

/**
 * Describes how `ours` differs from `theirs` ('' when they agree). llhttp's raw value spans keep
 * trailing whitespace, which RFC 9110 §5.5 excludes from the field value (Node trims it too), so it is
 * trimmed before comparing. Error codes compare through {@link LLHTTP_CODES}; an error at EOF
 * (llhttp code 14) has no meaningful offset.
 */
export function diffOutcome(ours: Outcome, theirs: Outcome, opts: { compareTrailers?: boolean } = {}): string {
  const norm = (o: Outcome): unknown =>
    o.messages.map((m) => ({ ...m, headers: trimOws(m.headers), trailers: opts.compareTrailers === false ? [] : trimOws(m.trailers) }));
  const a = JSON.stringify(norm(ours));
  const b = JSON.stringify(norm(theirs));
  if (a !== b) return `messages differ:\n  ours   ${a.slice(0, 700)}\n  theirs ${b.slice(0, 700)}`;
  const ea = ours.error;
  const eb = theirs.error;
  if (!ea && !eb) return '';
  if (!ea || !eb) return `error differs: ours ${JSON.stringify(ea)} theirs ${JSON.stringify(eb)}`;
  const allowed = ea.ours ? (LLHTTP_CODES[ea.ours] ?? []) : [ea.code];
  if (!allowed.includes(eb.code)) return `error code differs: ours ${ea.ours ?? ea.code} theirs ${eb.code}`;
  if (eb.code !== 14 && ea.offset !== eb.offset) return `error offset differs: ours ${ea.offset} theirs ${eb.offset} (${ea.ours})`;
  return '';
}

interface WasmParser {
  onHeadersComplete?: (m: { versionMajor: number; versionMinor: number; rawHeaders: string[]; method?: number; url?: string; statusCode?: number; statusMessage?: string; upgrade: boolean }) => number;
  onBody?: (b: Uint8Array) => number;
  onMessageComplete?: () => number;
  execute(data: Uint8Array): number;
  getErrorName(code: number): string | undefined;
  getErrorPosition(): number;
  destroy(): void;
}
const wasm = require('llhttp-wasm') as { createParser(type: string): WasmParser };

/**
 * Runs llhttp-wasm (strict) over `input` in one piece. It decodes strings as UTF-8, so compare it with
 * {@link utf8View} of our outcome; it does not report trailers.
 */
export function runWasm(kind: 'request' | 'response', input: Buffer): Outcome {
  const p = wasm.createParser(kind === 'request' ? 'REQUEST' : 'RESPONSE');
  const messages: Message[] = [];
  let current: Message | null = null;
  let upgradeSeen = false;
  p.onHeadersComplete = (h) => {
    const m: Message = { version: `${h.versionMajor}.${h.versionMinor}`, headers: toPairs(h.rawHeaders), body: '', trailers: [], complete: false };
    if (kind === 'request') {
      m.method = nativeMethods[h.method as number];
      m.url = h.url;
    } else {
      m.status = h.statusCode;
      m.reason = h.statusMessage ?? '';
    }
    messages.push(m);
    current = m;
    upgradeSeen = h.upgrade;
    return 0;
  };
  p.onBody = (b) => {
    if (current) current.body += Buffer.from(b).toString('utf8');
    return 0;
  };
  p.onMessageComplete = () => {
    if (current) current.complete = true;
    return 0;
  };
  const r = p.execute(input);
  const pos = p.getErrorPosition();
  p.destroy();
  if (r !== 0) {
    const name = p.getErrorName(r) ?? '';
    return { messages, error: { code: LLHTTP_NAMES[name] ?? r, offset: pos } };
  }
  void upgradeSeen;
  return { messages };
}

/** Our outcome with strings re-decoded as UTF-8 and trailers dropped, to compare with llhttp-wasm. */
export function utf8View(o: Outcome): Outcome {
  const u = (s: string | undefined): string | undefined => (s === undefined ? s : Buffer.from(s, 'latin1').toString('utf8'));
  return {
    error: o.error,
    messages: o.messages.map((m) => ({
      ...m,
      url: u(m.url),
      reason: u(m.reason),
      headers: m.headers.map(([n, v]) => [u(n) as string, u(v) as string] as [string, string]),
      body: u(m.body) as string,
      trailers: [],
    })),
  };
}

/** Methods llhttp knows (it rejects every other token; RFC 9110 §9.1 allows any). */
export const LLHTTP_METHODS: ReadonlySet<string> = new Set(nativeMethods);

/**
 * Why a difference between us and llhttp is deliberate, or '' when it is not. Each reason is a row of
 * the README's divergence table.
 */
export function knownDivergence(kind: 'request' | 'response', input: Buffer, ours: Outcome, theirs: Outcome): string {
  const text = input.toString('latin1');
  if (kind === 'request' && theirs.error?.code === 6) {
    // We accept any token, so an unknown method's line is only judged once it ends.
    if (!ours.error) return 'method outside llhttp list (RFC 9110 §9.1)';
    for (const m of ours.messages) if (m.method !== undefined && !LLHTTP_METHODS.has(m.method)) return 'method outside llhttp list (RFC 9110 §9.1)';
    for (const m of text.matchAll(/(?:^|\n)[\r\n]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+) /g)) {
      if (!LLHTTP_METHODS.has(m[1])) return 'method outside llhttp list (RFC 9110 §9.1)';
    }
  }
  if (kind === 'response' && ours.error?.ours === 'ERR_H1_LF_EXPECTED' && /^HTTP\/1\.\d [^\r\n]*\r[^\n]/.test(text)) return 'bare CR after the status line (RFC 9112 §2.2)';
  if (theirs.messages.some((m) => m.version === '0.9' || m.version === '2.0')) return 'HTTP/0.9 or HTTP/2.0 start line (RFC 9112 §2.3)';
  // Requests whose Transfer-Encoding does not end in chunked: same error and offset, but llhttp
  // reports the head first and we do not.
  const last = theirs.messages[theirs.messages.length - 1];
  if (
    kind === 'request' && theirs.error?.code === 15 && (ours.error?.ours === 'ERR_H1_INVALID_TRANSFER_ENCODING' || ours.error?.ours === 'ERR_H1_UNKNOWN_TRANSFER_CODING') &&
    ours.error.offset === theirs.error.offset && last && !last.complete && ours.messages.length === theirs.messages.length - 1
  ) return 'request Transfer-Encoding rejected before the head is reported (RFC 9112 §6.3 rule 4)';
  // llhttp 9.4.2 (the fixtures) accepts HTAB around a Content-Length value; 9.3.1 (Node 20, and this
  // llhttp-wasm) rejects a trailing one. We follow the newer llhttp.
  if (theirs.error?.code === 11 && /Content-Length:[^\r\n]*\d[ ]*\t/i.test(text)) return 'HTAB after Content-Length (llhttp 9.4.2 accepts, 9.3.1 rejects)';
  return '';
}
