export { HpackDecoder, type HpackDecoderOptions } from './decoder.js';
export { HpackEncoder, type HpackEncoderOptions, type SetCookiePolicy } from './encoder.js';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength, maxHuffmanDecodedLength } from './huffman.js';
export { STATIC_NAMES, STATIC_VALUES, STATIC_TABLE_LENGTH } from './static-table.js';
export { ErrorCode, Http2Error, type ErrorCodeValue } from '../error.js';
