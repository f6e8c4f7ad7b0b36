import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import dns from 'node:dns';
import { createServer, type Server, type Socket } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { formatStructuredData, formatSyslogMessage, SyslogDestination, SyslogFacility, SyslogHeader, SyslogSeverity } from '../src/index.js';

/** RFC 5424 §6 grammar, nil SD or SD elements, optional MSG. */
const SYSLOG = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\"]|\\.|"(?:[^"\\]|\\.)*")*\])+)(?: ([\s\S]*))?$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

interface Parsed {
  pri: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: string;
  msg: string | undefined;
}

function parse(text: string): Parsed {
  const m = SYSLOG.exec(text);
  assert.ok(m, `not RFC 5424: ${JSON.stringify(text)}`);
  assert.match(m[2], TIMESTAMP);
  return { pri: Number(m[1]), timestamp: m[2], hostname: m[3], appName: m[4], procId: m[5], msgId: m[6], sd: m[7], msg: m[8] };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

const Format = suite('RFC 5424 format');

Format('header fields, PRI and nil structured data', () => {
  const header = new SyslogHeader({ facility: SyslogFacility.local3, hostname: 'edge-1', appName: 'sluice', procId: '4242' });
  const text = formatSyslogMessage(header, 'hello', { severity: SyslogSeverity.warning, msgId: 'access', timestamp: new Date(Date.UTC(2026, 10, 21, 6, 0, 0, 123)) });
  assert.is(text, '<156>1 2026-11-21T06:00:00.123Z edge-1 sluice 4242 access - hello');
  const p = parse(text);
  assert.is(p.pri, 19 * 8 + 4);
});

Format('non-ASCII MSG starts with a BOM; ASCII does not; empty MSG has no trailing space', () => {
  const header = new SyslogHeader({ hostname: 'h', procId: '1' });
  const utf8 = formatSyslogMessage(header, 'café', { severity: 6 });
  assert.ok(utf8.endsWith(' \uFEFFcafé'));
  assert.is(Buffer.from(utf8).subarray(-8).toString('hex'), 'efbbbf636166c3a9');
  assert.ok(formatSyslogMessage(header, 'cafe', { severity: 6 }).endsWith(' - cafe'));
  assert.ok(formatSyslogMessage(header, '', { severity: 6 }).endsWith(' - -'));
});

Format('structured data values escape ", \\ and ]', () => {
  const sd = formatStructuredData({ 'req@32473': { uri: '/a"b\\c]d', n: '1' } });
  assert.is(sd, '[req@32473 uri="/a\\"b\\\\c\\]d" n="1"]');
  const header = new SyslogHeader({ hostname: 'h', procId: '1' });
  const p = parse(formatSyslogMessage(header, 'x', { severity: 6, structuredData: { 'req@32473': { uri: 'a]b' } } }));
  assert.is(p.sd, '[req@32473 uri="a\\]b"]');
  assert.is(p.msg, 'x');
});

Format('MSGID outside printable ASCII becomes _ and is cut at 32 characters', () => {
  const header = new SyslogHeader({ hostname: 'h', procId: '1' });
  assert.is(parse(formatSyslogMessage(header, 'x', { severity: 6, msgId: 'a b\u00e9' })).msgId, 'a_b_');
  assert.is(parse(formatSyslogMessage(header, 'x', { severity: 6, msgId: 'm'.repeat(40) })).msgId, 'm'.repeat(32));
});

Format('invalid header fields, severities and SD names are typed errors', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'no error';
  };
  assert.is(code(() => new SyslogHeader({ hostname: 'has space' })), 'ERR_SYSLOG_INVALID_FIELD');
  assert.is(code(() => new SyslogHeader({ appName: 'a'.repeat(49) })), 'ERR_SYSLOG_INVALID_FIELD');
  assert.is(code(() => new SyslogHeader({ facility: 24 })), 'ERR_SYSLOG_INVALID_FIELD');
  assert.is(code(() => formatSyslogMessage(new SyslogHeader(), 'x', { severity: 8 })), 'ERR_SYSLOG_INVALID_FIELD');
  assert.is(code(() => formatStructuredData({ 'a=b': {} })), 'ERR_SYSLOG_INVALID_FIELD');
  assert.is(code(() => new SyslogDestination({ target: { transport: 'udp', host: '127.0.0.1', port: 0 } })), 'ERR_SYSLOG_INVALID_TARGET');
  assert.is(code(() => new SyslogDestination({ target: { transport: 'unix', path: '' } })), 'ERR_SYSLOG_INVALID_TARGET');
});

const Udp = suite('syslog over UDP to a real listener');
let udpServer: DgramSocket;
let udpPort = 0;
const datagrams: Buffer[] = [];
let onDatagram: (() => void) | undefined;

Udp.before(async () => {
  udpServer = createSocket('udp4');
  udpServer.on('message', (m) => {
    datagrams.push(m);
    onDatagram?.();
  });
  await new Promise<void>((r) => udpServer.bind(0, '127.0.0.1', () => r()));
  udpPort = udpServer.address().port;
});
Udp.after(() => new Promise<void>((r) => udpServer.close(() => r())));

function waitForDatagrams(n: number): Promise<void> {
  if (datagrams.length >= n) return Promise.resolve();
  return withTimeout(new Promise<void>((r) => (onDatagram = () => datagrams.length >= n && r())), 3000, `${n} datagrams`);
}

Udp('pino lines arrive as one RFC 5424 datagram each, severity from the pino level', async () => {
  datagrams.length = 0;
  const dest = new SyslogDestination({ target: { transport: 'udp', host: '127.0.0.1', port: udpPort }, facility: SyslogFacility.local0, hostname: 'test-host', appName: 'sluice-test', msgId: 'error' });
  const log = pino({ level: 'debug', base: null }, dest);
  log.info({ route: '/a' }, 'started');
  log.warn('slow upstream');
  log.error(new Error('boom'), 'failed');
  log.debug('detail');
  await waitForDatagrams(4);
  await dest.close();
  const parsed = datagrams.map((d) => parse(d.toString('utf8')));
  assert.equal(parsed.map((p) => p.pri), [16 * 8 + 6, 16 * 8 + 4, 16 * 8 + 3, 16 * 8 + 7]);
  for (const p of parsed) {
    assert.is(p.hostname, 'test-host');
    assert.is(p.appName, 'sluice-test');
    assert.is(p.procId, String(process.pid));
    assert.is(p.msgId, 'error');
    assert.is(p.sd, '-');
    assert.not.ok(p.msg!.endsWith('\n'), 'pino newline stripped');
  }
  const first = JSON.parse(parsed[0].msg!);
  assert.is(first.msg, 'started');
  assert.is(first.route, '/a');
  assert.is(JSON.parse(parsed[2].msg!).err.message, 'boom');
  assert.is(dest.dropped, 0);
});

Udp('over-long messages are cut at maxMessageBytes on a character boundary', async () => {
  datagrams.length = 0;
  const dest = new SyslogDestination({ target: { transport: 'udp', host: '127.0.0.1', port: udpPort }, hostname: 'h', procId: '1', maxMessageBytes: 100 });
  dest.send(SyslogSeverity.notice, 'é'.repeat(200));
  await waitForDatagrams(1);
  await dest.close();
  assert.ok(datagrams[0].length <= 100 && datagrams[0].length >= 97, `length ${datagrams[0].length}`);
  const text = datagrams[0].toString('utf8');
  assert.not.ok(text.includes('\uFFFD'), 'no broken character');
  assert.ok(parse(text).msg!.startsWith('\uFEFFé'));
});

/**
 * Answers dgram's lookups of `name` with `answer.address` and counts them (dgram takes `dns.lookup`
 * when a socket is created); other names go to the real lookup. Returns the restore function.
 */
function fakeName(name: string, answer: { address: string; lookups: number }): () => void {
  const real = dns.lookup;
  const fake = (host: string, options: unknown, callback: (e: Error | null, address: string, family: number) => void) => {
    if (host !== name) return (real as (...args: unknown[]) => void)(host, options, callback);
    answer.lookups++;
    process.nextTick(callback, null, answer.address, 4);
  };
  dns.lookup = fake as typeof dns.lookup;
  return () => (dns.lookup = real);
}

Udp('the host is resolved once (a connected socket), not for every message', async () => {
  datagrams.length = 0;
  const answer = { address: '127.0.0.1', lookups: 0 };
  const restore = fakeName('syslog.test', answer);
  try {
    const dest = new SyslogDestination({ target: { transport: 'udp', host: 'syslog.test', port: udpPort }, hostname: 'h', procId: '1' });
    for (let i = 0; i < 5; i++) dest.send(SyslogSeverity.notice, `m${i}`);
    await waitForDatagrams(5);
    for (let i = 5; i < 10; i++) dest.send(SyslogSeverity.notice, `m${i}`);
    await waitForDatagrams(10);
    await dest.close();
    assert.equal(datagrams.map((d) => parse(d.toString('utf8')).msg), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'], 'queued while resolving, then in order');
    assert.is(answer.lookups, 1);
    assert.is(dest.dropped, 0);
  } finally {
    restore();
  }
});

Udp('after a send error the host is resolved again: messages follow a receiver that moved', async () => {
  const answer = { address: '127.0.0.1', lookups: 0 };
  const restore = fakeName('syslog.test', answer);
  const first = createSocket('udp4');
  const second = createSocket('udp4');
  const got: string[] = [];
  second.on('message', (m) => got.push(parse(m.toString('utf8')).msg!));
  try {
    await new Promise<void>((r) => first.bind(0, '127.0.0.1', () => r()));
    const port = first.address().port;
    await new Promise<void>((r) => second.bind(port, '127.0.0.2', () => r()));
    const firstGot = new Promise<string>((r) => first.once('message', (m) => r(parse(m.toString('utf8')).msg!)));
    const dest = new SyslogDestination({ target: { transport: 'udp', host: 'syslog.test', port }, hostname: 'h', procId: '1', reconnectDelayMs: 10 });
    dest.send(SyslogSeverity.notice, 'to the first');
    assert.is(await withTimeout(firstGot, 3000, 'the first receiver'), 'to the first');
    // The receiver leaves and the name now points elsewhere: the next sends fail (ICMP port
    // unreachable on the connected socket), which makes the destination resolve the name again.
    await new Promise<void>((r) => first.close(() => r()));
    answer.address = '127.0.0.2';
    let sending = true;
    await withTimeout(
      (async () => {
        for (let i = 0; sending && got.length === 0; i++) {
          dest.send(SyslogSeverity.notice, `moved ${i}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      5000,
      'a message at the second receiver',
    ).finally(() => (sending = false));
    await dest.close();
    assert.match(got[0], /^moved \d+$/);
    assert.ok(dest.errors >= 1, `errors ${dest.errors}`);
    assert.ok(answer.lookups >= 2, `resolved again after the error (lookups ${answer.lookups})`);
  } finally {
    restore();
    second.close();
  }
});

Udp('the util-linux logger --rfc5424 output has the same shape (format cross-check)', async () => {
  if (!existsSync('/usr/bin/logger')) {
    console.log('  (logger not installed: cross-check skipped)');
    return;
  }
  datagrams.length = 0;
  await new Promise<void>((resolve, reject) =>
    execFile('logger', ['-n', '127.0.0.1', '-P', String(udpPort), '-d', '--rfc5424', '-t', 'sluice-test', '-p', 'local0.warning', '--msgid', 'error', 'hello'], (e) => (e ? reject(e) : resolve())),
  );
  await waitForDatagrams(1);
  const theirs = parse(datagrams[0].toString('utf8'));
  const ours = parse(formatSyslogMessage(new SyslogHeader({ facility: SyslogFacility.local0, hostname: theirs.hostname, appName: 'sluice-test', procId: '1' }), 'hello', { severity: SyslogSeverity.warning, msgId: 'error' }));
  assert.is(ours.pri, theirs.pri);
  assert.is(ours.appName, theirs.appName);
  assert.is(ours.msgId, theirs.msgId);
  assert.is(ours.msg, theirs.msg);
});

const Unix = suite('syslog over a Unix stream socket with octet counting (RFC 6587)');
let dir: string;
let unixServer: Server;
const received: Buffer[] = [];
let onData: (() => void) | undefined;
const accepted = new Set<Socket>();

Unix.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-syslog-'));
  unixServer = createServer((s) => {
    accepted.add(s);
    s.on('close', () => accepted.delete(s));
    s.on('data', (d) => {
      received.push(d);
      onData?.();
    });
  });
  await new Promise<void>((r) => unixServer.listen(join(dir, 'log.sock'), () => r()));
});
Unix.after(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => unixServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** Splits `LEN SP MSG` frames, checking each length against the bytes. */
function frames(bytes: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const space = bytes.indexOf(0x20, i);
    assert.ok(space > i, 'frame length');
    const lenText = bytes.subarray(i, space).toString('latin1');
    assert.match(lenText, /^[1-9][0-9]*$/);
    const len = Number(lenText);
    assert.ok(space + 1 + len <= bytes.length, `frame of ${len} bytes fits`);
    out.push(bytes.subarray(space + 1, space + 1 + len).toString('utf8'));
    i = space + 1 + len;
  }
  return out;
}

function waitForFrames(n: number): Promise<string[]> {
  const have = () => frames(Buffer.concat(received));
  if (have().length >= n) return Promise.resolve(have());
  return withTimeout(new Promise<string[]>((r) => (onData = () => { const f = have(); if (f.length >= n) r(f); })), 3000, `${n} frames`);
}

Unix('messages written before the connect are queued, then framed LEN SP MSG byte for byte', async () => {
  received.length = 0;
  const dest = new SyslogDestination({ target: { transport: 'unix', path: join(dir, 'log.sock') }, hostname: 'h', appName: 'app', procId: '7', msgId: 'access' });
  const log = pino({ base: null }, dest);
  log.info({ uri: '/x' }, 'line one');
  log.info('line\ntwo with a newline and ünïcode');
  dest.send(SyslogSeverity.error, 'direct');
  const got = await waitForFrames(3);
  await dest.close();
  assert.is(got.length, 3);
  const p = got.map(parse);
  assert.equal(p.map((x) => x.pri), [14, 14, 11]);
  assert.is(JSON.parse(p[0].msg!).uri, '/x');
  // The newline inside is JSON-escaped by pino; the frame length counts UTF-8 bytes, with the BOM.
  assert.ok(p[1].msg!.startsWith('\uFEFF'));
  assert.is(JSON.parse(p[1].msg!.slice(1)).msg, 'line\ntwo with a newline and ünïcode');
  assert.is(p[2].msg, 'direct');
  assert.is(dest.errors, 0);
});

Unix('when the receiver drops the connection, later messages wait and go out on a new one', async () => {
  received.length = 0;
  const dest = new SyslogDestination({ target: { transport: 'unix', path: join(dir, 'log.sock') }, hostname: 'h', procId: '1', reconnectDelayMs: 50 });
  dest.send(SyslogSeverity.notice, 'before');
  await waitForFrames(1);
  const first = [...accepted];
  assert.is(first.length, 1);
  for (const s of first) s.destroy();
  await withTimeout(new Promise<void>((r) => { const t = setInterval(() => { if (accepted.size === 0 && !dest.connected) { clearInterval(t); r(); } }, 5); }), 3000, 'the drop');
  received.length = 0;
  dest.send(SyslogSeverity.notice, 'after one');
  dest.send(SyslogSeverity.notice, 'after two');
  const got = await waitForFrames(2);
  assert.equal(got.map((f) => parse(f).msg), ['after one', 'after two']);
  assert.is(accepted.size, 1);
  assert.not.ok(accepted.has(first[0]), 'a new connection');
  await dest.close();
  assert.is(dest.dropped, 0);
});

Unix('a receiver that stops reading: past maxBufferedBytes messages are dropped and counted', async () => {
  const held: Socket[] = [];
  const paused = createServer((s) => {
    s.pause();
    held.push(s);
  });
  const path = join(dir, 'slow.sock');
  await new Promise<void>((r) => paused.listen(path, () => r()));
  const dest = new SyslogDestination({ target: { transport: 'unix', path }, hostname: 'h', procId: '1', maxBufferedBytes: 64 * 1024 });
  const big = 'x'.repeat(60_000);
  dest.send(SyslogSeverity.informational, 'first');
  await withTimeout(new Promise<void>((r) => { const t = setInterval(() => { if (dest.connected) { clearInterval(t); r(); } }, 5); }), 3000, 'connect');
  for (let i = 0; i < 200; i++) dest.send(SyslogSeverity.informational, big);
  assert.ok(dest.dropped > 0, `dropped ${dest.dropped}`);
  assert.ok(dest.dropped < 200, 'the kernel and the first 64 KiB took some');
  const closing = dest.close();
  for (const s of held) s.destroy();
  await closing;
  await new Promise<void>((r) => paused.close(() => r()));
});

Unix('a missing socket is an error counted and reported, never thrown', async () => {
  const seen: Error[] = [];
  const dest = new SyslogDestination({ target: { transport: 'unix', path: join(dir, 'absent.sock') }, onError: (e) => seen.push(e), reconnectDelayMs: 10_000 });
  dest.send(SyslogSeverity.error, 'lost');
  await withTimeout(new Promise<void>((r) => { const t = setInterval(() => { if (seen.length > 0) { clearInterval(t); r(); } }, 5); }), 3000, 'the connect error');
  assert.is(dest.errors, 1);
  assert.is((seen[0] as NodeJS.ErrnoException).code, 'ENOENT');
  await dest.close();
  assert.is(dest.dropped, 1);
});

Format.run();
Udp.run();
Unix.run();
