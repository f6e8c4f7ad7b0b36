import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerNameMap, checkServerNamePattern, normalizeServerName } from '../src/server-name.js';
import { TlsConfigError } from '../src/errors.js';

const patterns = suite('server name patterns');
patterns('valid names and wildcards normalize to lower case without the trailing dot', () => {
  assert.is(checkServerNamePattern('Example.COM.'), 'example.com');
  assert.is(checkServerNamePattern('*.Example.com'), '*.example.com');
  assert.is(checkServerNamePattern('localhost'), 'localhost');
  assert.is(normalizeServerName('A.B.'), 'a.b');
});
patterns('RFC 6125 wildcard rules and bad labels are ERR_TLS_INVALID_SERVER_NAME', () => {
  for (const bad of ['', '*.com', '*', 'f*.example.com', 'a.*.example.com', '*.*.example.com', '-a.example.com', 'a..b', '127.0.0.1', 'x'.repeat(64) + '.com', 'a b.com']) {
    assert.throws(() => checkServerNamePattern(bad), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_INVALID_SERVER_NAME', bad);
  }
});

const lookup = suite('server name lookup');
lookup('exact before wildcard; a wildcard covers exactly one label', () => {
  const m = new ServerNameMap<string>();
  m.set('api.example.com', 'exact');
  m.set('*.example.com', 'wild');
  assert.is(m.get('api.example.com'), 'exact');
  assert.is(m.get('API.EXAMPLE.COM.'), 'exact');
  assert.is(m.get('www.example.com'), 'wild');
  assert.is(m.get('example.com'), undefined);
  assert.is(m.get('a.b.example.com'), undefined);
  assert.is(m.get('.example.com'), undefined);
  assert.is(m.get(''), undefined);
  assert.is(m.size, 2);
});
lookup('the same name twice is ERR_TLS_DUPLICATE_SERVER_NAME, in any spelling', () => {
  const m = new ServerNameMap<number>();
  m.set('a.test', 1);
  m.set('*.a.test', 2);
  assert.throws(() => m.set('A.test.', 3), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_DUPLICATE_SERVER_NAME');
  assert.throws(() => m.set('*.A.test', 3), (e: unknown) => e instanceof TlsConfigError && e.code === 'ERR_TLS_DUPLICATE_SERVER_NAME');
  m.clear();
  assert.is(m.size, 0);
});

patterns.run();
lookup.run();
