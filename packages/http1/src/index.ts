export * from './error.js';
export * from './parser.js';
