export { Continuum, NodeIterator, POINTS_PER_WEIGHT, DEFAULT_MAX_POINTS } from './continuum.js';
export type { Bucket, ContinuumOptions } from './continuum.js';
export type { BucketAddress, SocketAddressLike } from './address.js';
export { crc32 } from './crc32.js';
export { KetamaError } from './errors.js';
export type { KetamaErrorCode } from './errors.js';
