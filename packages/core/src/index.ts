export * from './error.js';
export * from './field.js';
export * from './header-map.js';
export * from './http-header.js';
