// JetStream domains (nats-server's `jetstream { domain: edge1 }`): the server's JetStream API is
// also reachable as `$JS.<domain>.API.>`. Requests there are handed to the local `$JS.API.>`
// handlers with their reply subject, so the answer finds the requester wherever it is. The bridge
// subscribes as its own internal client, not as the server's JetStream: its interest is announced
// over leaf node links and routes (a client on a hub reaches an edge's JetStream by the edge's
// domain), while `$JS.API.>` itself stays on each server. One queue group, so in a cluster one
// server answers. docs/leafnodes.md, "JetStream domains".

import type { BusSubscription, MessageBus } from '../streams/bus.ts';

const DOMAIN_QUEUE = '_sluice_js_domain';

export function jetStreamDomainPrefix(domain: string): string {
  return `$JS.${domain}.API.`;
}

/** Serves `$JS.<domain>.API.>` through `bridge` by republishing to `$JS.API.>` on `local`. */
export function bindJetStreamDomain(bridge: MessageBus, local: MessageBus, domain: string): BusSubscription {
  const prefix = jetStreamDomainPrefix(domain);
  return bridge.subscribe(
    `${prefix}>`,
    (subject, reply, hdr, data) => {
      local.publish(`$JS.API.${subject.slice(prefix.length)}`, reply, hdr, data);
    },
    DOMAIN_QUEUE,
  );
}
