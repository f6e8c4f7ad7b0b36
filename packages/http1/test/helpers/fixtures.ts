// Reads llhttp's markdown fixtures (../shared/testdata/llhttp-tests, format in its README) into inputs
// and the Outcome their expected event logs describe.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Message, Outcome } from './outcome.js';

export interface Fixture {
  file: string;
  name: string;
  kind: 'request' | 'response';
  finish: boolean;
  skipBody: boolean;
  noScan: boolean;
  input: Buffer;
  expected: Outcome;
}

/** The corpus folder, or undefined when it is absent (a fresh clone without ../shared). */
export function llhttpTestsDir(): string | undefined {
  const root = process.env.SLUICE_TESTDATA ?? resolve(import.meta.dirname, '../../../../../shared/testdata');
  const dir = join(root, 'llhttp-tests');
  return existsSync(dir) ? dir : undefined;
}

function unescapeInput(raw: string): Buffer {
  let s = raw.replace(/\\\n/g, '').replace(/\n/g, '\r\n');
  s = s.replace(/\$\{([^}]*)\}/g, (_m, expr: string) => String(new Function(`return (${expr});`)()));
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 === s.length) {
      bytes.push(s.charCodeAt(i) & 0xff);
      continue;
    }
    const e = s[i + 1];
    if (e === 'r') bytes.push(13), i++;
    else if (e === 'n') bytes.push(10), i++;
    else if (e === 't') bytes.push(9), i++;
    else if (e === 'f') bytes.push(12), i++;
    else if (e === 'x') bytes.push(parseInt(s.slice(i + 2, i + 4), 16)), (i += 3);
    else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i + 1)) as RegExpExecArray;
      bytes.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length;
    } else bytes.push(0x5c);
  }
  return Buffer.from(bytes);
}

function unescapeSpan(s: string): string {
  // Spans are printed verbatim between quotes except for these escapes (see len=).
  return s.replace(/\\(x[0-9a-fA-F]{2}|[rntf])/g, (_m, e: string) => {
    if (e === 'r') return '\r';
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e === 'f') return '\f';
    return String.fromCharCode(parseInt(e.slice(1), 16));
  });
}

/** The Outcome an llhttp event log describes. */
export function outcomeOfLog(log: string): Outcome {
  const messages: Message[] = [];
  let m: Message | null = null;
  let field = '';
  let value = '';
  let inTrailers = false;
  const spans: Record<string, string> = {};
  const out: Outcome = { messages };
  for (const line of log.split('\n')) {
    const fin = /^off=NULL finish=(\d)/.exec(line.trim());
    if (fin) {
      // 1: the close-delimited message completes at EOF; 2: EOF inside a message is an error.
      if (fin[1] === '1' && m) m.complete = true;
      if (fin[1] === '2') out.error = { code: 14, offset: -1 };
      break;
    }
    const ev = /^off=(\d+) (.*)$/.exec(line.trim());
    if (!ev) continue;
    const off = Number(ev[1]);
    const rest = ev[2];
    const span = /^len=\d+ span\[(\w+)\]=(?:"(.*)"|(cr|lf|crlf))$/.exec(rest);
    if (rest === 'message begin') {
      m = { version: '', headers: [], body: '', trailers: [], complete: false };
      inTrailers = false;
      for (const k of Object.keys(spans)) delete spans[k];
      field = value = '';
    } else if (span && m) {
      const [, kind, text, word] = span;
      const t = word ? word.replace('cr', '\r').replace('lf', '\n') : unescapeSpan(text);
      if (kind === 'header_field') field += t;
      else if (kind === 'header_value') value += t;
      else if (kind === 'body') m.body += t;
      else spans[kind] = (spans[kind] ?? '') + t;
    } else if (rest === 'header_value complete' && m) {
      (inTrailers ? m.trailers : m.headers).push([field, value]);
      field = value = '';
    } else if (rest.startsWith('headers complete') && m) {
      const st = /status=(\d+)/.exec(rest);
      const v = /v=(\d+)\/(\d+)/.exec(rest) as RegExpExecArray;
      m.version = `${v[1]}.${v[2]}`;
      if (st) {
        m.status = Number(st[1]);
        m.reason = spans.status ?? '';
      } else {
        m.method = spans.method;
        m.url = spans.url ?? '';
      }
      messages.push(m);
    } else if (rest === 'chunk header len=0') {
      inTrailers = true;
    } else if (rest === 'message complete' && m) {
      m.complete = true;
    } else if (rest.startsWith('error code=')) {
      out.error = { code: Number(/code=(\d+)/.exec(rest)?.[1]), offset: off };
      break;
    }
  }
  return out;
}

/** Every fixture that applies to strict (non-lenient) mode. */
export function loadFixtures(dir: string): { fixtures: Fixture[]; skipped: string[] } {
  const fixtures: Fixture[] = [];
  const skipped: string[] = [];
  for (const sub of ['request', 'response']) {
    for (const f of readdirSync(join(dir, sub)).sort()) {
      if (!f.endsWith('.md')) continue;
      const text = readFileSync(join(dir, sub, f), 'utf8');
      const re = /^(#+) (.*)$|<!-- meta=(\{.*?\}) -->\s*```http\n([\s\S]*?)\n```\n[\s\S]*?```log\n([\s\S]*?)```/gm;
      let title = '';
      for (let m = re.exec(text); m; m = re.exec(text)) {
        if (m[1]) {
          title = m[2].trim();
          continue;
        }
        const meta = JSON.parse(m[3]) as { type?: string; noScan?: boolean; skipBody?: boolean; pause?: string; skip?: boolean };
        const type = meta.type ?? 'request';
        const name = `${sub}/${f}: ${title}`;
        if (meta.skip || !/^(request|response)(-finish)?$/.test(type)) {
          skipped.push(`${name} (${type})`);
          continue;
        }
        fixtures.push({
          file: `${sub}/${f}`,
          name,
          kind: type.startsWith('request') ? 'request' : 'response',
          finish: type.endsWith('-finish'),
          skipBody: meta.skipBody === true,
          noScan: meta.noScan === true,
          input: unescapeInput(m[4]),
          expected: outcomeOfLog(m[5]),
        });
      }
    }
  }
  return { fixtures, skipped };
}
