// The public surface of protocol/: wire parsers and encoders, subjects, the subject trie, header
// blocks, limits and the error catalogue. Pure: no sockets, timers or files.

export { ServerParser, ClientParser } from './parser.ts';
export type { ClientParserLimits } from './parser.ts';
export {
  OutboundBuffer,
  PING_BYTES,
  PONG_BYTES,
  OK_BYTES,
  writeInfo,
  writeMsg,
  writeOk,
  writeErr,
  writePing,
  writePong,
  writeConnect,
  writePub,
  writeSub,
  writeUnsub,
} from './encoder.ts';
export {
  MsgHeaders,
  HeaderParseError,
  HeaderStatus,
  findHeaderValue,
  encodeStatusBlock,
  isValidHeaderName,
  isValidHeaderValue,
} from './headers.ts';
export {
  isValidSubject,
  isValidPublishSubject,
  isValidQueueName,
  isValidName,
  hasWildcard,
  tokenize,
  subjectMatches,
  subjectsCollide,
  isSubsetOf,
} from './subject.ts';
export { SubjectTrie } from './subject-trie.ts';
export { ProtocolErrorKind } from './sink.ts';
export type { ProtocolError, ServerOpSink, ClientOpSink, ParserLimits } from './sink.ts';
export * from './limits.ts';
export * from './errors.ts';
