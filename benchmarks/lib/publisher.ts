// Publisher side of the load generator: a pre-built block of identical PUB frames written over and
// over with backpressure. When `stampSeq` is on, each chunk is a copy of the block with the first 4
// payload bytes of every frame set to the message's sequence number (uint32 BE), so subscribers can
// check order and exactly-once delivery; the copy is a memcpy per ~256 KiB, not per message.

import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { RawConn } from './raw-conn.ts';

export interface FrameBlock {
  /** framesPerBlock frames back to back. */
  block: Buffer;
  frameBytes: number;
  framesPerBlock: number;
  /** Offset of the payload inside one frame. */
  payloadOffset: number;
}

const TARGET_BLOCK_BYTES = 256 * 1024;

/** `PUB <subject> [reply] <n>\r\n<payload>\r\n` repeated to about 256 KiB (at least one frame). */
export function buildPubBlock(subject: string, payloadBytes: number, reply?: string, targetBytes = TARGET_BLOCK_BYTES): FrameBlock {
  const head = Buffer.from(reply === undefined ? `PUB ${subject} ${payloadBytes}\r\n` : `PUB ${subject} ${reply} ${payloadBytes}\r\n`);
  const frameBytes = head.length + payloadBytes + 2;
  const framesPerBlock = Math.max(1, Math.floor(targetBytes / frameBytes));
  const block = Buffer.allocUnsafe(frameBytes * framesPerBlock);
  for (let f = 0; f < framesPerBlock; f++) {
    const at = f * frameBytes;
    head.copy(block, at);
    // deterministic printable filler; the bytes do not matter to the servers
    for (let i = 0; i < payloadBytes; i++) block[at + head.length + i] = 97 + (i % 26);
    block[at + head.length + payloadBytes] = 13;
    block[at + head.length + payloadBytes + 1] = 10;
  }
  return { block, frameBytes, framesPerBlock, payloadOffset: head.length };
}

export interface PublishOptions {
  count: number;
  stampSeq: boolean;
  /** First sequence number stamped (default 0). */
  firstSeq?: number;
}

/**
 * Writes `count` frames from the block, one chunk per event-loop turn at most (so the subscribers
 * on the same loop keep reading), waiting for 'drain' whenever the socket buffer is full.
 */
export async function publishFrames(conn: RawConn, fb: FrameBlock, opts: PublishOptions): Promise<void> {
  const { block, frameBytes, framesPerBlock, payloadOffset } = fb;
  const stamp = opts.stampSeq && frameBytes - payloadOffset - 2 >= 4;
  let seq = opts.firstSeq ?? 0;
  let left = opts.count;
  while (left > 0) {
    const frames = Math.min(framesPerBlock, left);
    let chunk: Buffer;
    if (stamp) {
      chunk = Buffer.allocUnsafe(frames * frameBytes);
      block.copy(chunk, 0, 0, chunk.length);
      for (let f = 0, at = payloadOffset; f < frames; f++, at += frameBytes) chunk.writeUInt32BE(seq++ >>> 0, at);
    } else {
      chunk = frames === framesPerBlock ? block : block.subarray(0, frames * frameBytes);
    }
    left -= frames;
    const wait = conn.write(chunk);
    if (wait !== null) await wait;
    else await yieldTurn();
    if (conn.failure !== null) throw conn.failure;
  }
}
