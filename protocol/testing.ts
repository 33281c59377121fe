// Test support for the parsers (not exported from index.ts): sinks that record every op as plain
// data, and feeders that deliver the same bytes whole, one byte at a time, and in random chunks.

import { Buffer } from 'node:buffer';
import type { ClientOpSink, ParserLimits, ProtocolError, ServerOpSink } from './sink.ts';
import { ClientParser, ServerParser, type ClientParserLimits } from './parser.ts';
import { seededRng, systemRng, type Rng } from '../runtime/rng.ts';

/** One recorded op. Byte arguments are copied and rendered as latin1 so tests compare strings. */
export type Op =
  | ['connect', string]
  | ['pub', string, string, number, string]
  | ['sub', string, string, string]
  | ['unsub', string, number]
  | ['info', string]
  | ['msg', string, number, string, number, string]
  | ['ok']
  | ['err', string]
  | ['ping']
  | ['pong']
  | ['error', ProtocolError['kind']];

export class RecordingServerSink implements ServerOpSink {
  readonly ops: Op[] = [];
  errors = 0;
  connect(json: string): void {
    this.ops.push(['connect', json]);
  }
  pub(subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    this.ops.push(['pub', subject, reply, hdrLen, msg.toString('latin1')]);
  }
  sub(subject: string, queue: string, sid: string): void {
    this.ops.push(['sub', subject, queue, sid]);
  }
  unsub(sid: string, max: number): void {
    this.ops.push(['unsub', sid, max]);
  }
  ping(): void {
    this.ops.push(['ping']);
  }
  pong(): void {
    this.ops.push(['pong']);
  }
  error(err: ProtocolError): void {
    this.errors++;
    this.ops.push(['error', err.kind]);
  }
}

export class RecordingClientSink implements ClientOpSink {
  readonly ops: Op[] = [];
  errors = 0;
  info(json: string): void {
    this.ops.push(['info', json]);
  }
  msg(subject: string, sid: number, reply: string, hdrLen: number, msg: Buffer): void {
    this.ops.push(['msg', subject, sid, reply, hdrLen, msg.toString('latin1')]);
  }
  ok(): void {
    this.ops.push(['ok']);
  }
  err(text: string): void {
    this.ops.push(['err', text]);
  }
  ping(): void {
    this.ops.push(['ping']);
  }
  pong(): void {
    this.ops.push(['pong']);
  }
  error(err: ProtocolError): void {
    this.errors++;
    this.ops.push(['error', err.kind]);
  }
}

/** Cut `bytes` into chunks at the given sorted cut points; each chunk is a fresh copy. */
export function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    if (c <= prev || c >= bytes.length) continue;
    out.push(Buffer.from(bytes.subarray(prev, c)));
    prev = c;
  }
  out.push(Buffer.from(bytes.subarray(prev)));
  return out;
}

export function randomChunks(bytes: Buffer, rng: Rng, maxChunk = 17): Buffer[] {
  const cuts: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    at += 1 + rng.int(maxChunk);
    cuts.push(at);
  }
  return cutAt(bytes, cuts);
}

export function byteChunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(Buffer.from([bytes[i]]));
  return out;
}

/**
 * Chunks, then scribble over each chunk after it was parsed: proves the parser kept no views into
 * a chunk past the parse() call that delivered it (the sinks above copy what they record).
 */
export function feedServer(chunks: readonly Buffer[], limits: ParserLimits): RecordingServerSink {
  const sink = new RecordingServerSink();
  const p = new ServerParser(sink, limits);
  for (const c of chunks) {
    p.parse(c);
    c.fill(0x58);
  }
  return sink;
}

export function feedClient(chunks: readonly Buffer[], limits?: ClientParserLimits): RecordingClientSink {
  const sink = new RecordingClientSink();
  const p = new ClientParser(sink, limits);
  for (const c of chunks) {
    p.parse(c);
    c.fill(0x58);
  }
  return sink;
}

/** A seed from the environment (SEED=n) or fresh; tests print it so a failure replays. */
export function testSeed(): number {
  const env = process.env['SEED'];
  if (env !== undefined && env !== '') return Number(env) >>> 0;
  return systemRng().seed;
}

export { seededRng };
