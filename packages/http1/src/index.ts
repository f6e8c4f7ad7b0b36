export * from './error.js';
export * from './parser.js';
export * from './serializer.js';
export * from './chunked.js';
export * from './framing.js';
export * from './session.js';
export * from './server-session.js';
export * from './client-session.js';
export type { PeerEndListener } from './message-reader.js';
