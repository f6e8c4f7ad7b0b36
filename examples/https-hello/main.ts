// HTTPS with HTTP/2 and HTTP/1.1 by ALPN, on Sluice's own codecs and a certificate from a local CA.
//   node --import tsx examples/https-hello/main.ts
//   curl --cacert certs/ca.pem https://localhost:8443/            # HTTP/2
//   curl --cacert certs/ca.pem --http1.1 https://127.0.0.1:8443/  # HTTP/1.1
// SSLKEYLOGFILE=keys.log makes the traffic decryptable by Wireshark (debugging only).
import { Server } from '@sluice/core';
import { createHelloService, localCertificates } from './app.js';

const port = Number(process.env.PORT ?? 8443);
const certDir = process.env.CERT_DIR ?? './certs';

const { caFile, cert, key } = localCertificates(certDir);
const { service, settings } = createHelloService(`0.0.0.0:${port}`, { cert, key, keyLog: process.env.SSLKEYLOGFILE || undefined });
const server = Server.fromArgs();
server.addService(service);
service.readiness.ready.then(() => console.log(`https-hello on https://localhost:${service.addresses[0].port}/ (h2, http/1.1); trust ${caFile}`));
await server.run();
await settings.close();
process.exit(0);
