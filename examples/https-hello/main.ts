// HTTPS with HTTP/2 and HTTP/1.1 by ALPN, on a certificate from a local CA.
//   node --import tsx examples/https-hello/main.ts
//   curl --cacert certs/ca.pem https://localhost:8443/            # HTTP/2
//   curl --cacert certs/ca.pem --http1.1 https://127.0.0.1:8443/  # HTTP/1.1
// SSLKEYLOGFILE=keys.log makes the traffic decryptable by Wireshark (debugging only).
import { createHelloServer, localCertificates } from './app.js';

const port = Number(process.env.PORT ?? 8443);
const certDir = process.env.CERT_DIR ?? './certs';

const { caFile, cert, key } = localCertificates(certDir);
const { server, settings } = createHelloServer({ cert, key, keyLog: process.env.SSLKEYLOGFILE || undefined });
server.listen(port, () => {
  const { port: bound } = server.address() as { port: number };
  console.log(`https-hello on https://localhost:${bound}/ (h2, http/1.1); trust ${caFile}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    void settings.close();
  });
}
