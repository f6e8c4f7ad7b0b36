export * from './proxy-http.js';
export * from './session.js';
export * from './hop-by-hop.js';
export * from './retry-buffer.js';
export * from './fail-status.js';
export * from './tunnel.js';
export * from './http-proxy.js';
export * from './proxy-service.js';
