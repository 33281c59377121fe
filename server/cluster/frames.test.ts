import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundBuffer } from '../../protocol/encoder.ts';
import { seededRng } from '../../runtime/rng.ts';
import { EntryKind, MessageType, makeMessage } from '../../raft/types.ts';
import {
  decodeRaftMessages,
  FrameError,
  FrameKind,
  RouteFrameDecoder,
  writeEmpty,
  writeErrFrame,
  writeHello,
  writeMsg,
  writePeers,
  writeRaft,
  writeSub,
  strBytes,
  writeUnsub,
  type RouteFrameSink,
  type RouteHello,
} from './frames.ts';

function recorder(): { sink: RouteFrameSink; got: unknown[] } {
  const got: unknown[] = [];
  const sink: RouteFrameSink = {
    hello: (h) => got.push(['hello', h]),
    peers: (p) => got.push(['peers', p]),
    sub: (...a) => got.push(['sub', ...a]),
    unsub: (...a) => got.push(['unsub', ...a]),
    msg: (account, subject, deliverAs, reply, queues, hdrLen, msg) =>
      got.push(['msg', account, subject, deliverAs, reply, [...queues], hdrLen, Buffer.from(msg).toString('latin1')]),
    ping: () => got.push(['ping']),
    pong: () => got.push(['pong']),
    err: (r) => got.push(['err', r]),
    raft: (group, payload) => got.push(['raft', group, decodeRaftMessages(payload)]),
  };
  return { sink, got };
}

const hello: RouteHello = {
  v: 1,
  id: 'NAAA',
  name: 's1',
  cluster: 'c1',
  routeUrl: 'nats-route://127.0.0.1:6222',
  clientUrls: ['127.0.0.1:4222'],
  wsUrls: [],
};

function sample(): { bytes: Buffer; want: unknown[] } {
  const out = new OutboundBuffer();
  writeHello(out, hello);
  writePeers(out, { peers: [{ id: 'NB', url: 'nats-route://127.0.0.1:6223' }] });
  writeSub(out, '$G', 'orders.*', '', 1);
  writeSub(out, '$G', 'work', 'q1', 3);
  writeUnsub(out, '$G', 'orders.*', '');
  writeMsg(out, strBytes('$G'), 'orders.1', Buffer.from('orders.1'), '', '_INBOX.x', [], 0, Buffer.from('hello'));
  writeMsg(out, strBytes('$G'), '_INBOX.y', null, 'stored.subj', '', ['q1', 'q2'], 12, Buffer.from('NATS/1.0\r\n\r\nbody'));
  writeMsg(out, strBytes('$G'), 'big', null, '', '', [], 0, Buffer.alloc(200_000, 0x61));
  writeMsg(out, strBytes('$G'), 'ünïcode.subject', null, '', '', [], 0, Buffer.alloc(0));
  writeEmpty(out, FrameKind.Ping);
  writeEmpty(out, FrameKind.Pong);
  writeErrFrame(out, 'cluster name mismatch');
  writeRaft(out, 'S-R3F-abc', [makeMessage({ type: MessageType.Append, to: 7, from: 1, entries: [{ index: 1, term: 1, kind: EntryKind.Normal, data: new Uint8Array([1, 2]) }] })]);
  const want = [
    ['hello', hello],
    ['peers', { peers: [{ id: 'NB', url: 'nats-route://127.0.0.1:6223' }] }],
    ['sub', '$G', 'orders.*', '', 1],
    ['sub', '$G', 'work', 'q1', 3],
    ['unsub', '$G', 'orders.*', ''],
    ['msg', '$G', 'orders.1', '', '_INBOX.x', [], 0, 'hello'],
    ['msg', '$G', '_INBOX.y', 'stored.subj', '', ['q1', 'q2'], 12, 'NATS/1.0\r\n\r\nbody'],
    ['msg', '$G', 'big', '', '', [], 0, 'a'.repeat(200_000)],
    ['msg', '$G', 'ünïcode.subject', '', '', [], 0, ''],
    ['ping'],
    ['pong'],
    ['err', 'cluster name mismatch'],
    ['raft', 'S-R3F-abc', [makeMessage({ type: MessageType.Append, to: 7, from: 1, entries: [{ index: 1, term: 1, kind: EntryKind.Normal, data: Buffer.from([1, 2]) }] })]],
  ];
  return { bytes: out.take(), want };
}

test('every frame kind round-trips in one chunk', () => {
  const { bytes, want } = sample();
  const { sink, got } = recorder();
  new RouteFrameDecoder(sink, 1 << 20).push(bytes);
  assert.deepEqual(got, want);
});

test('frames cut at every kind of boundary decode the same (byte at a time and random cuts)', () => {
  const { bytes, want } = sample();
  {
    const { sink, got } = recorder();
    const d = new RouteFrameDecoder(sink, 1 << 20);
    // Byte at a time over the small frames (the 200 KB one would make this slow: cut it larger).
    for (let i = 0; i < bytes.length; ) {
      const step = i < 300 || i > bytes.length - 300 ? 1 : 4096;
      d.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
      i += step;
    }
    assert.deepEqual(got, want);
  }
  for (let seed = 1; seed <= 20; seed++) {
    const rng = seededRng(seed);
    const { sink, got } = recorder();
    const d = new RouteFrameDecoder(sink, 1 << 20);
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + rng.int(rng.int(2) === 0 ? 16 : 70_000);
      // A fresh copy each time: the decoder must not keep views of a reused read buffer.
      const chunk = Buffer.from(bytes.subarray(i, i + n));
      d.push(chunk);
      chunk.fill(0);
      i += n;
    }
    assert.deepEqual(got, want, `seed ${seed}`);
  }
});

test('oversized, unknown and truncated frames are errors', () => {
  const { sink } = recorder();
  const big = new OutboundBuffer();
  writeMsg(big, strBytes('$G'), 'x', null, '', '', [], 0, Buffer.alloc(2000));
  assert.throws(() => new RouteFrameDecoder(sink, 1024).push(big.take()), FrameError);
  assert.throws(() => new RouteFrameDecoder(sink, 1024).push(Buffer.from([0, 0, 0, 1, 99])), /unknown route frame kind 99/);
  // A SUB whose string length runs past the frame.
  assert.throws(() => new RouteFrameDecoder(sink, 1024).push(Buffer.from([0, 0, 0, 3, FrameKind.Sub, 0, 9])), /truncated/);
  assert.throws(() => new RouteFrameDecoder(sink, 1024).push(Buffer.from([0, 0, 0, 0])), FrameError);
});
