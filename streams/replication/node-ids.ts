// Raft node ids for servers. raft/ numbers its members; a server's number is derived from its
// name (FNV-1a, 32 bits, never 0), so every server computes the same id for a peer without
// asking, and a restarted server keeps its id. Names are unique in a cluster; a collision of two
// names' hashes is refused when a group is formed (groupMembers), never silently merged.

import type { NodeId } from '../../raft/types.ts';

export function nodeIdOf(serverName: string): NodeId {
  let h = 0x811c9dc5;
  for (let i = 0; i < serverName.length; i++) {
    h ^= serverName.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}

/** id -> name for a group's members; throws if two names share an id. */
export function groupMembers(names: readonly string[]): Map<NodeId, string> {
  const byId = new Map<NodeId, string>();
  for (const name of names) {
    const id = nodeIdOf(name);
    const other = byId.get(id);
    if (other !== undefined && other !== name) throw new Error(`server names "${other}" and "${name}" map to the same raft node id`);
    byId.set(id, name);
  }
  return byId;
}
