import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as signBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { TlsConfigError } from './errors.js';

/** A PEM private key and the PEM certificate (leaf first, then its issuers) that goes with it. */
export interface CertifiedKey {
  /** The certificate alone (PEM). */
  cert: string;
  /** The private key (PKCS#8 PEM). */
  key: string;
  /** The certificate followed by the issuing CA's certificate: what a server sends. */
  chain: string;
}

/** What goes into a certificate. Validity defaults: from one hour ago (clock skew) for `validityDays`. */
export interface CertificateOptions {
  /** Subject CN (default: the first DNS name, else the first IP, else `localhost`). */
  commonName?: string;
  /** subjectAltName DNS entries; wildcards like `*.example.com` are allowed. */
  dnsNames?: string[];
  /** subjectAltName IP entries (IPv4 or IPv6). */
  ipAddresses?: string[];
  /** Start of validity (default: one hour ago). */
  notBefore?: Date;
  /** End of validity (default: `notBefore` + `validityDays`). A date in the past makes an expired certificate. */
  notAfter?: Date;
  /** Days of validity when `notAfter` is not given (default 365; 3650 for a CA). */
  validityDays?: number;
  /** Reuse a PEM private key instead of generating one (tests that issue many certificates). */
  key?: string;
  /** RSA modulus size for a generated key (default 2048). */
  keyBits?: number;
  /** Extended key usages (default both `serverAuth` and `clientAuth`, so one leaf serves mTLS too). */
  usage?: Array<'serverAuth' | 'clientAuth'>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Generates an RSA key pair with node:crypto (OpenSSL, milliseconds) rather than forge (pure JS,
 * seconds), and returns it as PKCS#8 PEM. forge signs X.509 with RSA keys only.
 */
export function generatePrivateKey(bits = 2048): string {
  if (!Number.isInteger(bits) || bits < 1024 || bits > 8192) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `RSA key size ${bits} is not an integer in 1024..8192`);
  return generateKeyPairSync('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

function privateKeyOf(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', 'the private key is not a PEM private key', { cause: e });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `the private key is ${key.asymmetricKeyType}, but forge encodes RSA certificates only`);
  return key;
}

function validityOf(o: CertificateOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = o.notBefore ?? new Date(Date.now() - HOUR_MS);
  const notAfter = o.notAfter ?? new Date(notBefore.getTime() + (o.validityDays ?? defaultDays) * DAY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `certificate notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`);
  return { notBefore, notAfter };
}

// A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable).
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

function subjectOf(commonName: string): forge.pki.CertificateField[] {
  return [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Sluice' }];
}

function altNamesOf(o: CertificateOptions): Array<{ type: number; value?: string; ip?: string }> {
  const names: Array<{ type: number; value?: string; ip?: string }> = [];
  for (const dns of o.dnsNames ?? []) names.push({ type: 2, value: dns });
  for (const ip of o.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', `subjectAltName IP ${JSON.stringify(ip)} is not an IP address`);
    names.push({ type: 7, ip });
  }
  return names;
}

interface Draft {
  subject: forge.pki.CertificateField[];
  issuer: forge.pki.CertificateField[];
  subjectKey: KeyObject;
  signingKey: KeyObject;
  validity: { notBefore: Date; notAfter: Date };
  extensions: object[];
}

// Missing from @types/node-forge, present in forge since 0.7.
interface TbsEncoder {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

// forge builds the TBSCertificate (RFC 5280 §4.1) and node:crypto signs it: OpenSSL's RSA signature
// takes about a millisecond where forge's pure-JS one takes tens.
function sign(d: Draft): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(d.subjectKey).export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = d.validity.notBefore;
  cert.validity.notAfter = d.validity.notAfter;
  cert.setSubject(d.subject);
  cert.setIssuer(d.issuer);
  cert.setExtensions(d.extensions);
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = forge.asn1.toDer((forge.pki as unknown as TbsEncoder).getTBSCertificate(cert)).getBytes();
  cert.signature = signBytes('sha256', Buffer.from(tbs, 'binary'), d.signingKey).toString('binary');
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

function leafExtensions(o: CertificateOptions): object[] {
  const usage = o.usage ?? ['serverAuth', 'clientAuth'];
  const altNames = altNamesOf(o);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage.includes('serverAuth'), clientAuth: usage.includes('clientAuth') },
    { name: 'subjectKeyIdentifier' },
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  return extensions;
}

function defaultCommonName(o: CertificateOptions): string {
  return o.commonName ?? o.dnsNames?.[0] ?? o.ipAddresses?.[0] ?? 'localhost';
}

/** A certificate authority that issues leaf certificates (for tests, examples and private PKI). */
export class CertificateAuthority {
  /** The CA certificate (PEM): what clients and servers trust. */
  readonly cert: string;
  /** The CA's private key (PKCS#8 PEM). */
  readonly key: string;
  private readonly subject: forge.pki.CertificateField[];
  private readonly signingKey: KeyObject;

  /** Uses an existing CA certificate and key (PEM), e.g. one written earlier by {@link createCertificateAuthority}. */
  constructor(cert: string, key: string) {
    this.cert = cert;
    this.key = key;
    this.signingKey = privateKeyOf(key);
    try {
      this.subject = forge.pki.certificateFromPem(cert).subject.attributes.map((a) => ({ name: a.name, type: a.type, value: a.value }) as forge.pki.CertificateField);
    } catch (e) {
      throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', 'the CA certificate is not an RSA certificate in PEM', { cause: e });
    }
  }

  /**
   * Issues a leaf certificate signed by this CA with the given SANs and validity.
   * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` for a bad IP, key or validity window.
   */
  issue(options: CertificateOptions = {}): CertifiedKey {
    const key = options.key ?? generatePrivateKey(options.keyBits);
    const cert = sign({
      subject: subjectOf(defaultCommonName(options)),
      issuer: this.subject,
      subjectKey: privateKeyOf(key),
      signingKey: this.signingKey,
      validity: validityOf(options, 365),
      extensions: leafExtensions(options),
    });
    return { cert, key, chain: cert + this.cert };
  }
}

/**
 * Creates a new self-signed certificate authority (CN `Sluice Test CA` unless given, valid 10 years).
 * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` for a bad key or validity window.
 */
export function createCertificateAuthority(options: Omit<CertificateOptions, 'dnsNames' | 'ipAddresses' | 'usage'> = {}): CertificateAuthority {
  const key = options.key ?? generatePrivateKey(options.keyBits);
  const subject = subjectOf(options.commonName ?? 'Sluice Test CA');
  const cert = sign({
    subject,
    issuer: subject,
    subjectKey: privateKeyOf(key),
    signingKey: privateKeyOf(key),
    validity: validityOf(options, 3650),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  return new CertificateAuthority(cert, key);
}

/**
 * Creates a self-signed leaf certificate (its own issuer); peers must trust it directly.
 * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` for a bad IP, key or validity window.
 */
export function createSelfSignedCertificate(options: CertificateOptions = {}): CertifiedKey {
  const key = options.key ?? generatePrivateKey(options.keyBits);
  const subject = subjectOf(defaultCommonName(options));
  const cert = sign({ subject, issuer: subject, subjectKey: privateKeyOf(key), signingKey: privateKeyOf(key), validity: validityOf(options, 365), extensions: leafExtensions(options) });
  return { cert, key, chain: cert };
}

/** What a certificate says, read with node:crypto's X509Certificate. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  commonName: string | undefined;
  dnsNames: string[];
  ipAddresses: string[];
  validFrom: Date;
  validTo: Date;
  serialNumber: string;
  fingerprint256: string;
  isCa: boolean;
}

/**
 * Reads subject, SANs and validity of a PEM (or DER) certificate; the first one when given a chain.
 * @throws TlsConfigError `ERR_TLS_INVALID_CONFIG` when it is not a certificate.
 */
export function certificateFacts(certificate: string | Buffer | X509Certificate): CertificateFacts {
  let x509: X509Certificate;
  try {
    x509 = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  } catch (e) {
    throw new TlsConfigError('ERR_TLS_INVALID_CONFIG', 'not an X.509 certificate in PEM or DER', { cause: e });
  }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  // Node renders subjectAltName as `DNS:a, IP Address:1.2.3.4`; names with `,` or `"` are quoted JSON.
  for (const entry of (x509.subjectAltName ?? '').split(/, (?=[A-Za-z ]+:)/)) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) value = JSON.parse(value) as string;
    if (kind === 'DNS') dnsNames.push(value);
    else if (kind === 'IP Address') ipAddresses.push(value);
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject);
  return {
    subject: x509.subject,
    issuer: x509.issuer,
    commonName: cn ? cn[1] : undefined,
    dnsNames,
    ipAddresses,
    validFrom: new Date(x509.validFrom),
    validTo: new Date(x509.validTo),
    serialNumber: x509.serialNumber,
    fingerprint256: x509.fingerprint256,
    isCa: x509.ca,
  };
}
