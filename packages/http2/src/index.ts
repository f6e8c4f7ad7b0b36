export { ErrorCode, Http2Error, type ErrorCodeValue } from './error.js';
export {
  HpackDecoder,
  HpackEncoder,
  type HpackDecoderOptions,
  type HpackEncoderOptions,
  type SetCookiePolicy,
} from './hpack/index.js';
export * from './frame/index.js';
