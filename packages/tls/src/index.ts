export * from './errors.js';
export * from './certificate.js';
export * from './server-name.js';
export * from './key-log.js';
export * from './settings.js';
export * from './connector.js';
