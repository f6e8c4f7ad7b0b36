import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsCertificateError, TlsHandshakeError, tlsErrorOf } from '../src/errors.js';

const mapping = suite('OpenSSL codes to typed errors');
const cases: Array<[string, string]> = [
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_HOSTNAME'],
  ['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_EXPIRED'],
  ['CERT_NOT_YET_VALID', 'ERR_TLS_CERT_NOT_YET_VALID'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_UNKNOWN_CA'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_UNKNOWN_CA'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_UNKNOWN_CA'],
  ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_TLS_CLIENT_CERT_REQUIRED'],
  ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_TLS_CLIENT_CERT_REQUIRED'],
  ['CERT_REVOKED', 'ERR_TLS_CERT_INVALID'],
];
for (const [openssl, ours] of cases) {
  mapping(`${openssl} → ${ours}`, () => {
    const source = Object.assign(new Error('x'), { code: openssl });
    const e = tlsErrorOf(source, 'connector', '10.0.0.1:443');
    assert.instance(e, TlsCertificateError);
    assert.instance(e, TlsHandshakeError);
    assert.is(e.code, ours);
    assert.is(e.opensslCode, openssl);
    assert.is(e.cause, source);
    assert.is(e.peerAddress, '10.0.0.1:443');
  });
}
mapping('other failures are ERR_TLS_HANDSHAKE_FAILURE with OpenSSL reason', () => {
  const source = Object.assign(new Error('C0EC:error:0A0000C1:SSL routines:tls_post_process_client_hello:no shared cipher'), { code: 'ERR_SSL_NO_SHARED_CIPHER', reason: 'no shared cipher' });
  const e = tlsErrorOf(source, 'acceptor', '[::1]:5000');
  assert.is(e.constructor, TlsHandshakeError);
  assert.is(e.code, 'ERR_TLS_HANDSHAKE_FAILURE');
  assert.is(e.reason, 'no shared cipher');
  assert.is(e.message, 'TLS handshake from [::1]:5000 failed: no shared cipher');
  const noReason = tlsErrorOf(new Error('a:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), 'connector');
  assert.is(noReason.reason, 'wrong version number');
  assert.is(noReason.message, 'TLS handshake with unknown peer failed: wrong version number');
  assert.is(tlsErrorOf(noReason, 'acceptor'), noReason, 'already typed: returned as is');
  assert.is(tlsErrorOf('weird', 'connector').reason, 'weird');
});

mapping.run();
