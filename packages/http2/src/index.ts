export { ErrorCode, Http2Error, type ErrorCodeValue } from './error.js';
export {
  HpackDecoder,
  HpackEncoder,
  type HpackDecoderOptions,
  type HpackEncoderOptions,
  type SetCookiePolicy,
} from './hpack/index.js';
export * from './frame/index.js';
export { Http2Connection, type ConnectionHandler, type ConnectionRole, type Http2ConnectionOptions } from './connection.js';
export { Http2Stream, type StreamOwner } from './http2-stream.js';
export { StreamState, type StreamStateValue } from './stream-state.js';
export { ReceiveWindow } from './flow-control.js';
export { FloodGuard } from './flood-guard.js';
export { appendOutgoingFields, checkRequestFields, checkResponseFields, checkTrailerFields, type FieldList, type RequestControl } from './message.js';
export {
  Http2ServerApp,
  Http2ServerSession,
  Http2ServerStream,
  serveHttp2,
  type Http2RequestHandler,
  type Http2ServerAppOptions,
  type Http2ServerOptions,
  type ServeHttp2Options,
} from './server-session.js';
export {
  Http2ClientSession,
  Http2ClientStream,
  Http2Connector,
  type Http2ClientOptions,
  type Http2ConnectorOptions,
  type RequestTarget,
} from './client-session.js';
