export {
  CONNECTION_PREFACE,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
} from './frame-types.js';
export { FrameReader, typeName, type FrameHandler, type FrameReaderOptions } from './frame-reader.js';
export {
  PADDING,
  encodeContinuation,
  encodeData,
  encodeDataHeader,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
  writeFrameHeader,
  type FieldBlockFrameOptions,
  type Priority,
} from './frame-writer.js';
export { DEFAULT_SETTINGS, SettingsParameter, decodeSettings, type Settings } from './settings.js';
