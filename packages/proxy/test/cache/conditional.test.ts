import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request, response } from './fields.js';
import {
  parseEntityTag, parseEntityTagList, strongMatch, weakMatch, evaluatePreconditions, ifRangeAllows,
  addRevalidationHeaders, notModifiedMatches, mergeNotModified,
} from '../../src/cache/conditional.js';
import { formatHttpDate } from '../../src/cache/http-date.js';

const T = Date.UTC(2024, 0, 1, 0, 0, 0);

const tags = suite('entity tags (RFC 9110 §8.8.3)');

tags('the comparison table of §8.8.3.2', () => {
  const w1 = parseEntityTag('W/"1"')!;
  const s1 = parseEntityTag('"1"')!;
  const w2 = parseEntityTag('W/"2"')!;
  assert.not.ok(strongMatch(w1, w1));
  assert.ok(weakMatch(w1, w1));
  assert.not.ok(strongMatch(w1, w2));
  assert.not.ok(weakMatch(w1, w2));
  assert.not.ok(strongMatch(w1, s1));
  assert.ok(weakMatch(w1, s1));
  assert.ok(strongMatch(s1, s1));
  assert.ok(weakMatch(s1, s1));
});

tags('malformed tags', () => {
  for (const bad of ['1', '"1', 'w/"1"', '"a"b"', '']) assert.is(parseEntityTag(bad), undefined, bad);
});

tags('lists: *, commas inside tags, several lines, junk skipped', () => {
  assert.is(parseEntityTagList(['*']), '*');
  assert.equal(parseEntityTagList(['"a,b", W/"c"', 'junk, "d"']), [
    { weak: false, opaque: '"a,b"' }, { weak: true, opaque: '"c"' }, { weak: false, opaque: '"d"' },
  ]);
});

const pre = suite('preconditions (RFC 9110 §13.2.2)');
const stored = () => response(200, { etag: '"v1"', 'last-modified': formatHttpDate(T), date: formatHttpDate(T + 60_000) });

pre('If-None-Match uses weak comparison: 304 for GET/HEAD, 412 otherwise', () => {
  assert.is(evaluatePreconditions(request('GET', { 'if-none-match': 'W/"v1"' }), stored(), 0), 'not-modified');
  assert.is(evaluatePreconditions(request('HEAD', { 'if-none-match': '"x", "v1"' }), stored(), 0), 'not-modified');
  assert.is(evaluatePreconditions(request('GET', { 'if-none-match': '"v2"' }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-none-match': '*' }), stored(), 0), 'not-modified');
  assert.is(evaluatePreconditions(request('PUT', { 'if-none-match': '*' }), stored(), 0), 'precondition-failed');
});

pre('If-None-Match takes precedence over If-Modified-Since', () => {
  const req = request('GET', { 'if-none-match': '"v2"', 'if-modified-since': formatHttpDate(T + 1000) });
  assert.is(evaluatePreconditions(req, stored(), 0), 'proceed');
});

pre('If-Modified-Since against Last-Modified, then Date, then the storage time', () => {
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': formatHttpDate(T) }), stored(), 0), 'not-modified');
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': formatHttpDate(T - 1000) }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': 'garbage' }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('POST', { 'if-modified-since': formatHttpDate(T) }), stored(), 0), 'proceed');
  const dated = response(200, { date: formatHttpDate(T) });
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': formatHttpDate(T) }), dated, 0), 'not-modified');
  const bare = response(200);
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': formatHttpDate(T) }), bare, T + 1000), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-modified-since': formatHttpDate(T) }), bare, T), 'not-modified');
});

pre('If-Match uses strong comparison; If-Unmodified-Since applies only without If-Match', () => {
  assert.is(evaluatePreconditions(request('GET', { 'if-match': '"v1"' }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-match': 'W/"v1"' }), stored(), 0), 'precondition-failed');
  assert.is(evaluatePreconditions(request('GET', { 'if-match': '*' }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-unmodified-since': formatHttpDate(T - 1000) }), stored(), 0), 'precondition-failed');
  assert.is(evaluatePreconditions(request('GET', { 'if-unmodified-since': formatHttpDate(T) }), stored(), 0), 'proceed');
  assert.is(evaluatePreconditions(request('GET', { 'if-match': '"v1"', 'if-unmodified-since': formatHttpDate(T - 1000) }), stored(), 0), 'proceed');
});

pre('preconditions do not apply to a stored non-2xx (§13.2.1)', () => {
  const notFound = response(404, { etag: '"v1"' });
  assert.is(evaluatePreconditions(request('GET', { 'if-none-match': '"v1"' }), notFound, 0), 'proceed');
});

const range = suite('If-Range (RFC 9110 §13.1.5)');

range('entity tag: strong match only', () => {
  assert.ok(ifRangeAllows(request('GET'), stored()));
  assert.ok(ifRangeAllows(request('GET', { 'if-range': '"v1"' }), stored()));
  assert.not.ok(ifRangeAllows(request('GET', { 'if-range': '"v2"' }), stored()));
  assert.not.ok(ifRangeAllows(request('GET', { 'if-range': 'W/"v1"' }), response(200, { etag: 'W/"v1"' })));
});

range('date: exact match with a strong Last-Modified', () => {
  assert.ok(ifRangeAllows(request('GET', { 'if-range': formatHttpDate(T) }), stored()));
  assert.not.ok(ifRangeAllows(request('GET', { 'if-range': formatHttpDate(T + 1000) }), stored()));
  // Last-Modified equal to Date is weak (§8.8.2.2)
  const weak = response(200, { 'last-modified': formatHttpDate(T), date: formatHttpDate(T) });
  assert.not.ok(ifRangeAllows(request('GET', { 'if-range': formatHttpDate(T) }), weak));
});

const revalidation = suite('revalidation and 304 merging (RFC 9111 §4.3)');

revalidation('validators from the stored response replace the client conditionals', () => {
  const req = request('GET', { 'if-none-match': '"client"', 'if-match': '"x"', accept: '*/*' });
  assert.ok(addRevalidationHeaders(req, stored()));
  assert.is(req.headers.get('if-none-match'), '"v1"');
  assert.is(req.headers.get('if-modified-since'), formatHttpDate(T));
  assert.is(req.headers.get('if-match'), undefined);
  assert.is(req.headers.get('accept'), '*/*');
  const plain = request('GET', { 'if-none-match': '"client"' });
  assert.not.ok(addRevalidationHeaders(plain, response(200)));
  assert.is(plain.headers.get('if-none-match'), undefined);
});

revalidation('which stored response a 304 updates (§4.3.4)', () => {
  assert.ok(notModifiedMatches(stored(), response(304, { etag: '"v1"' })));
  assert.not.ok(notModifiedMatches(stored(), response(304, { etag: '"v2"' })));
  assert.not.ok(notModifiedMatches(response(200, { etag: 'W/"v1"' }), response(304, { etag: '"v1"' })));
  assert.ok(notModifiedMatches(response(200, { etag: 'W/"v1"' }), response(304, { etag: 'W/"v1"' })));
  assert.ok(notModifiedMatches(stored(), response(304, { 'last-modified': formatHttpDate(T) })));
  assert.not.ok(notModifiedMatches(stored(), response(304, { 'last-modified': formatHttpDate(T + 1000) })));
  assert.ok(notModifiedMatches(response(200), response(304)));
  // deliberate: a bare 304 answers the one revalidation this cache sent
  assert.ok(notModifiedMatches(stored(), response(304)));
});

revalidation('merge: 304 fields replace stored ones, except Content-Length and hop-by-hop', () => {
  const s = response(200, { 'cache-control': 'max-age=1', 'content-length': '5', 'x-old': 'keep', 'x-multi': ['a', 'b'], etag: '"v1"' });
  const nm = response(304, {
    'cache-control': 'max-age=100', 'content-length': '0', 'x-multi': ['c', 'd'], 'x-new': 'n', connection: 'x-hop', 'x-hop': 'h',
    date: formatHttpDate(T),
  });
  assert.is(mergeNotModified(s, nm), 4);
  assert.is(s.headers.get('cache-control'), 'max-age=100');
  assert.is(s.headers.get('content-length'), '5');
  assert.is(s.headers.get('x-old'), 'keep');
  assert.equal(s.headers.getAll('x-multi'), ['c', 'd']);
  assert.is(s.headers.get('x-new'), 'n');
  assert.is(s.headers.get('x-hop'), undefined);
  assert.is(s.headers.get('connection'), undefined);
  assert.is(s.headers.get('date'), formatHttpDate(T));
  assert.is(s.status, 200);
});

revalidation('merge keeps the fields that describe the stored bytes (§3.2 integrity)', () => {
  const s = response(200, { 'content-encoding': 'gzip', 'content-range': 'bytes 0-1/2', 'content-md5': 'a', 'content-digest': 'sha-256=:x:' });
  assert.is(mergeNotModified(s, response(304, { 'content-encoding': 'br', 'content-range': 'bytes 0-0/2', 'content-md5': 'b', 'content-digest': 'sha-256=:y:' })), 0);
  assert.is(s.headers.get('content-encoding'), 'gzip');
  assert.is(s.headers.get('content-range'), 'bytes 0-1/2');
  assert.is(s.headers.get('content-md5'), 'a');
  assert.is(s.headers.get('content-digest'), 'sha-256=:x:');
});

revalidation('merge skips fields the cache strips', () => {
  const s = response(200, {});
  mergeNotModified(s, response(304, { 'set-cookie': 'a=b', 'x-ok': '1' }), ['set-cookie']);
  assert.is(s.headers.get('set-cookie'), undefined);
  assert.is(s.headers.get('x-ok'), '1');
});

tags.run();
pre.run();
range.run();
revalidation.run();
