// What the simulated application does with entries: client payloads are tagged ids, the state
// machine is (index, running hash of every applied entry) and its snapshot is those 12 bytes; and
// the two views of a node's log the checker reasons about (in memory, as persisted).

import type { RaftNode } from '../../raft/raft.ts';
import type { MemoryStorage } from '../../raft/storage.ts';
import type { LogView, MachineState } from './checker.ts';

export const TAG_CLIENT = 1;
export const TAG_MARKER = 2;

export function payload(tag: number, id: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint8(0, tag);
  v.setUint32(4, id);
  return b;
}

export function decodePayload(d: Uint8Array): { tag: number; id: number } | null {
  if (d.length !== 8) return null;
  const v = new DataView(d.buffer, d.byteOffset, 8);
  return { tag: v.getUint8(0), id: v.getUint32(4) };
}

export function encodeMachine(sm: MachineState): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setFloat64(0, sm.index);
  v.setUint32(8, sm.hash);
  return b;
}

export function decodeMachine(d: Uint8Array): MachineState {
  if (d.length === 0) return { index: 0, hash: 0 };
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return { index: v.getFloat64(0), hash: v.getUint32(8) };
}

/** A running node's in-memory log (classes, not closures: this runs after every step). */
export class MemoryLogView implements LogView {
  readonly lastIndex: number;
  readonly lastTerm: number;
  constructor(private readonly r: RaftNode) {
    this.lastIndex = r.lastIndex();
    this.lastTerm = r.termAt(this.lastIndex);
  }
  contains(index: number, term: number): boolean {
    return index < this.r.firstIndex() - 1 || this.r.termAt(index) === term;
  }
}

/** A node's log as persisted: what it restarts with after a crash. */
export class PersistedLogView implements LogView {
  readonly lastIndex: number;
  readonly lastTerm: number;
  constructor(private readonly s: MemoryStorage) {
    this.lastIndex = s.lastIndex();
    this.lastTerm = s.term(this.lastIndex);
  }
  contains(index: number, term: number): boolean {
    return index < this.s.firstIndex() - 1 || (index <= this.lastIndex && this.s.term(index) === term);
  }
}
