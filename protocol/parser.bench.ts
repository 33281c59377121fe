// Microbenchmark (not a test): ~1M `PUB foo.bar 16\r\n<16 bytes>\r\n` frames parsed from 64 KiB
// chunks, plus the MSG side through ClientParser. Run: node --import tsx protocol/parser.bench.ts

import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { ClientParser, ServerParser } from './parser.ts';
import type { ClientOpSink, ProtocolError, ServerOpSink } from './sink.ts';

const FRAMES = 1_000_000;
const CHUNK_BYTES = 64 * 1024;

class CountingServerSink implements ServerOpSink {
  pubs = 0;
  bytes = 0;
  connect(): void {}
  pub(_s: string, _r: string, _h: number, msg: Buffer): void {
    this.pubs++;
    this.bytes += msg.length;
  }
  sub(): void {}
  unsub(): void {}
  ping(): void {}
  pong(): void {}
  error(err: ProtocolError): void {
    throw new Error(`unexpected ${err.kind}: ${err.detail}`);
  }
}

class CountingClientSink implements ClientOpSink {
  msgs = 0;
  info(): void {}
  msg(): void {
    this.msgs++;
  }
  ok(): void {}
  err(): void {}
  ping(): void {}
  pong(): void {}
  error(err: ProtocolError): void {
    throw new Error(`unexpected ${err.kind}: ${err.detail}`);
  }
}

function chunks(frame: Buffer | ((i: number) => Buffer)): Buffer[] {
  const frames: Buffer[] = [];
  for (let i = 0; i < FRAMES; i++) frames.push(typeof frame === 'function' ? frame(i) : frame);
  const all = Buffer.concat(frames);
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; at += CHUNK_BYTES) out.push(all.subarray(at, Math.min(at + CHUNK_BYTES, all.length)));
  return out;
}

function run(label: string, input: Buffer[], once: () => number): void {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    const n = once();
    const ms = performance.now() - t0;
    if (n !== FRAMES) throw new Error(`${label}: parsed ${n} of ${FRAMES}`);
    best = Math.min(best, ms);
  }
  const bytes = input.reduce((a, c) => a + c.length, 0);
  console.log(
    `${label}: ${(FRAMES / (best / 1000) / 1e6).toFixed(2)} M ops/s, ${(bytes / (best / 1000) / 1e6).toFixed(0)} MB/s ` +
      `(best of 7, ${best.toFixed(1)} ms for ${FRAMES} frames in ${input.length} chunks of 64 KiB)`,
  );
}

const limits = { maxControlLineBytes: 4096, maxPayloadBytes: 1024 * 1024 };
const pubInput = chunks(Buffer.from('PUB foo.bar 16\r\n0123456789abcdef\r\n'));
run('ServerParser PUB', pubInput, () => {
  const sink = new CountingServerSink();
  const p = new ServerParser(sink, limits);
  for (const c of pubInput) p.parse(c);
  return sink.pubs;
});

// Worst case for the parser's one-entry subject cache: every frame a different subject.
const variedInput = chunks((i) => Buffer.from(`PUB foo.bar.${i % 1000} 16\r\n0123456789abcdef\r\n`));
run('ServerParser PUB, 1000 subjects round-robin', variedInput, () => {
  const sink = new CountingServerSink();
  const p = new ServerParser(sink, limits);
  for (const c of variedInput) p.parse(c);
  return sink.pubs;
});

const msgInput = chunks(Buffer.from('MSG foo.bar 1 16\r\n0123456789abcdef\r\n'));
run('ClientParser MSG', msgInput, () => {
  const sink = new CountingClientSink();
  const p = new ClientParser(sink, limits);
  for (const c of msgInput) p.parse(c);
  return sink.msgs;
});
