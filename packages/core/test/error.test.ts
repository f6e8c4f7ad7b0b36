import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError, errorTypeOfSystemError, isSluiceError, orErr, toSluiceError } from '../src/index.js';

const errors = suite('SluiceError');

errors('code, message and defaults follow the type', () => {
  const e = new SluiceError('ConnectTimedout', { context: 'peer 127.0.0.1:9' });
  assert.is(e.code, 'ERR_CONNECT_TIMEDOUT');
  assert.is(e.source, 'Unset');
  assert.is(e.retry, true, 'a connect timeout sent nothing, so it is retryable');
  assert.match(e.message, 'ConnectTimedout');
  assert.match(e.message, 'peer 127.0.0.1:9');
  assert.ok(e instanceof Error);
  assert.is(new SluiceError('TLSHandshakeFailure').code, 'ERR_TLS_HANDSHAKE_FAILURE');
  assert.is(new SluiceError('InvalidHTTPHeader').code, 'ERR_INVALID_HTTP_HEADER');
  assert.is(new SluiceError('ReadError').retry, false, 'a read error may have sent the request');
});

errors('because keeps the cause chain; rootCause finds the innermost', () => {
  const sys = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const inner = SluiceError.because('ConnectRefused', 'connecting to a', sys);
  const outer = SluiceError.because('InternalError', 'proxying', inner);
  assert.is(outer.rootCause(), sys);
  assert.equal([...outer.chain()], [outer, inner, sys]);
  assert.match(outer.message, 'cause:');
});

errors('source, retry and context helpers', () => {
  const e = SluiceError.explain('ReadError', 'reading response').intoUp().setRetry('ReusedOnly');
  assert.is(e.source, 'Upstream');
  assert.is(e.retryable(false), false);
  assert.is(e.retryable(true), true);
  e.moreContext('peer a');
  assert.is(e.context, 'peer a: reading response');
  assert.match(e.message, 'peer a: reading response');
  assert.is(e.intoDown().source, 'Downstream');
  assert.is(e.intoIn().source, 'Internal');
});

errors('HTTPStatus and Custom types', () => {
  const s = SluiceError.httpStatus(431, 'header too large');
  assert.is(s.type, 'HTTPStatus');
  assert.is(s.status, 431);
  assert.is(s.source, 'Downstream');
  assert.match(s.message, 'HTTPStatus(431)');
  const c = new SluiceError('Custom', { customType: 'RateLimited' });
  assert.is(c.code, 'ERR_RATE_LIMITED');
  assert.match(c.message, 'RateLimited');
  assert.is(new SluiceError('H1Error', { code: 'ERR_H1_INVALID_CONTENT_LENGTH' }).code, 'ERR_H1_INVALID_CONTENT_LENGTH');
});

errors('orErr re-types rejections and adds context to SluiceErrors', async () => {
  try {
    await orErr(Promise.reject(new Error('boom')), 'FileReadError', 'reading conf.yaml');
    assert.unreachable();
  } catch (e) {
    assert.ok(isSluiceError(e, 'FileReadError'));
    assert.is((e as SluiceError).context, 'reading conf.yaml');
  }
  try {
    await orErr(Promise.reject(new SluiceError('ReadTimedout', { context: 'inner' })), 'ReadError', 'outer');
    assert.unreachable();
  } catch (e) {
    assert.ok(isSluiceError(e, 'ReadTimedout'), 'keeps its own type');
    assert.is((e as SluiceError).context, 'outer: inner');
  }
  assert.is(await orErr(Promise.resolve(3), 'ReadError', 'x'), 3);
  const passthrough = new SluiceError('WriteError');
  assert.is(toSluiceError(passthrough, 'ReadError', 'x'), passthrough);
  assert.is(toSluiceError('str', 'ReadError', 'x').type, 'ReadError');
});

errors('system error codes map to error types', () => {
  const sys = (code: string) => Object.assign(new Error(code), { code });
  assert.is(errorTypeOfSystemError(sys('ECONNREFUSED'), 'ConnectError'), 'ConnectRefused');
  assert.is(errorTypeOfSystemError(sys('EHOSTUNREACH'), 'ConnectError'), 'ConnectNoRoute');
  assert.is(errorTypeOfSystemError(sys('ENETUNREACH'), 'ConnectError'), 'ConnectNoRoute');
  assert.is(errorTypeOfSystemError(sys('EADDRINUSE'), 'ConnectError'), 'BindError');
  assert.is(errorTypeOfSystemError(sys('EWHATEVER'), 'ConnectError'), 'ConnectError');
  assert.is(errorTypeOfSystemError(null, 'ReadError'), 'ReadError');
});

errors.run();
