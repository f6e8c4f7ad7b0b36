import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderMap, RequestHeader, ResponseHeader, SluiceError, invalidFieldValueIndex, isToken } from '../src/index.js';

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError, 'a SluiceError');
    assert.is((e as SluiceError).code, code);
    assert.is((e as SluiceError).type, 'InvalidHTTPHeader');
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const map = suite('HeaderMap');

map('keeps case and order, looks up case-insensitively, holds repeats', () => {
  const h = new HeaderMap().append('X-Custom-ID', 'a').append('set-cookie', '1').append('Set-Cookie', '2').append('host', 'h');
  assert.equal(h.entries(), [['X-Custom-ID', 'a'], ['set-cookie', '1'], ['Set-Cookie', '2'], ['host', 'h']]);
  assert.is(h.get('x-custom-id'), 'a');
  assert.is(h.get('SET-COOKIE'), '1');
  assert.equal(h.getAll('set-cookie'), ['1', '2']);
  assert.ok(h.has('HOST'));
  assert.is(h.size, 4);
  assert.is(h.nameAt(0), 'X-Custom-ID');
  assert.is(h.keyAt(0), 'x-custom-id');
  assert.equal(h.toObject(), Object.assign(Object.create(null), { 'x-custom-id': 'a', 'set-cookie': ['1', '2'], host: 'h' }));
});

map('set replaces all repeats in place of the first; delete counts', () => {
  const h = new HeaderMap().append('A', '1').append('B', '2').append('a', '3').append('C', '4');
  h.set('a', 'x');
  assert.equal(h.entries(), [['a', 'x'], ['B', '2'], ['C', '4']]);
  h.set('D', 'd');
  assert.equal(h.entries()[3], ['D', 'd']);
  assert.is(h.delete('b'), 1);
  assert.is(h.delete('nope'), 0);
  assert.equal(h.entries(), [['a', 'x'], ['C', '4'], ['D', 'd']]);
  const c = h.clone();
  c.append('E', 'e');
  assert.is(h.size, 3, 'clone shares nothing');
  h.clear();
  assert.is(h.size, 0);
});

map('rejects invalid names and values with typed errors', () => {
  const h = new HeaderMap();
  throwsCode(() => h.append('Bad Name', 'v'), 'ERR_INVALID_HEADER_NAME');
  throwsCode(() => h.append('Bad:Name', 'v'), 'ERR_INVALID_HEADER_NAME');
  throwsCode(() => h.append('', 'v'), 'ERR_INVALID_HEADER_NAME');
  throwsCode(() => h.append('X', 'a\r\nInjected: 1'), 'ERR_INVALID_HEADER_VALUE');
  throwsCode(() => h.append('X', 'a\nb'), 'ERR_INVALID_HEADER_VALUE');
  throwsCode(() => h.append('X', 'a\0b'), 'ERR_INVALID_HEADER_VALUE');
  throwsCode(() => h.append('X', 'snow\u2603'), 'ERR_INVALID_HEADER_VALUE');
  throwsCode(() => h.set('X', '\x7f'), 'ERR_INVALID_HEADER_VALUE');
  assert.is(h.size, 0, 'nothing invalid was stored');
  h.append('X', 'tab\tand obs-text \xe9');
  assert.is(h.get('x'), 'tab\tand obs-text \xe9');
});

map('field syntax helpers', () => {
  assert.ok(isToken("!#$%&'*+-.^_`|~09azAZ"));
  assert.not.ok(isToken('a b'));
  assert.not.ok(isToken('a\x00'));
  assert.is(invalidFieldValueIndex('ok value'), -1);
  assert.is(invalidFieldValueIndex('ab\rc'), 2);
});

map('deleteKeys removes every field named in the set in one pass, order of the rest kept', () => {
  const h = new HeaderMap().append('Connection', 'close').append('Host', 'h').append('TE', 'x').append('X-A', '1').append('connection', 'y').append('X-B', '2');
  assert.is(h.deleteKeys(new Set(['connection', 'te'])), 3);
  assert.equal(h.entries(), [['Host', 'h'], ['X-A', '1'], ['X-B', '2']]);
  assert.is(h.deleteKeys(new Set(['nope'])), 0);
  assert.is(h.size, 3);
  assert.is(h.get('x-b'), '2', 'lookups still work after compaction');
});

const req = suite('RequestHeader');

req('build, path and query, field helpers', () => {
  const r = RequestHeader.build('GET', '/a/b?x=1&y=2');
  assert.is(r.method, 'GET');
  assert.is(r.version, '1.1');
  assert.is(r.path, '/a/b');
  assert.is(r.query, 'x=1&y=2');
  r.appendHeader('Accept', 'a').appendHeader('accept', 'b').insertHeader('Content-Length', 10);
  assert.equal(r.headers.getAll('ACCEPT'), ['a', 'b']);
  assert.is(r.header('content-length'), '10');
  assert.is(r.removeHeader('accept'), 2);
  const copy = r.clone();
  copy.insertHeader('Host', 'x').setUri('/other');
  assert.is(r.header('host'), undefined);
  assert.is(r.uri, '/a/b?x=1&y=2');
  assert.is(RequestHeader.build('OPTIONS', '*').query, undefined);
});

req('rejects bad methods and targets', () => {
  throwsCode(() => RequestHeader.build('GE T', '/'), 'ERR_INVALID_METHOD');
  throwsCode(() => RequestHeader.build('GET', '/a b'), 'ERR_INVALID_URI');
  throwsCode(() => RequestHeader.build('GET', '/a\r\n'), 'ERR_INVALID_URI');
  throwsCode(() => RequestHeader.build('GET', ''), 'ERR_INVALID_URI');
  throwsCode(() => RequestHeader.build('GET', '/').appendHeader('X', '\n'), 'ERR_INVALID_HEADER_VALUE');
});

const res = suite('ResponseHeader');

res('status, reason phrase and validation', () => {
  const r = ResponseHeader.build(404);
  assert.is(r.reasonPhrase, 'Not Found');
  r.reason = 'Nope';
  assert.is(r.reasonPhrase, 'Nope');
  r.setStatus(200);
  assert.is(r.reasonPhrase, 'OK');
  assert.is(ResponseHeader.build(599).reasonPhrase, '');
  throwsCode(() => ResponseHeader.build(99), 'ERR_INVALID_STATUS');
  throwsCode(() => ResponseHeader.build(1000), 'ERR_INVALID_STATUS');
  throwsCode(() => ResponseHeader.build(200.5), 'ERR_INVALID_STATUS');
  const c = r.appendHeader('Server', 'sluice').clone();
  c.removeHeader('server');
  assert.is(r.header('server'), 'sluice');
});

map.run();
req.run();
res.run();
