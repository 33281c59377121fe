// /metrics: the server's figures in the Prometheus text format, through prom-client.
//
// Names follow the Prometheus NATS exporter (gnatsd_varz_*, gnatsd_connz_*, gnatsd_routez_*,
// jetstream_*), so dashboards and alerts built on it read sluice unchanged; the few series of our
// own are sluice_*. Everything is read when scraped from counters the server keeps anyway
// (ServerStats, each connection's, each route's, JetStream's): nothing is added to the message
// path. Cardinality is bounded by what an operator creates: one series per server figure, per
// close reason (a fixed set), per route (one per peer), per stream and per consumer; never per
// connection or per subject (docs/monitoring.md).

// Loaded with the monitoring endpoints (endpoints.ts is imported only when there is an HTTP port).
import { Counter, Gauge, Registry } from 'prom-client';
import type { JetStreamService } from '../../streams/index.ts';
import type { RouteLink } from '../cluster/route.ts';
import type { ServerStats } from '../stats.ts';

export interface MetricsSource {
  readonly serverId: string;
  readonly serverName: string;
  readonly stats: ServerStats;
  readonly startMs: number;
  nowMs(): number;
  connectionCount(): number;
  subscriptionCount(): number;
  /** Bytes queued for all open client connections. */
  pendingBytes(): number;
  /** Closed client connections since start, by nats-server's reason text. */
  closedByReason(): ReadonlyMap<string, number>;
  routes(): readonly RouteLink[];
  jetstream(): JetStreamService | undefined;
}

/** The exporter's content type, with prom-client's registry answering in it. */
export interface MetricsEndpoint {
  readonly contentType: string;
  /** Reads the server's figures now and renders them. */
  render(): Promise<string>;
}

/** Builds the server's registry. */
export function createMetrics(src: MetricsSource): MetricsEndpoint {
  // A registry per server: tests run several servers in one process.
  const registry = new Registry();
  registry.setDefaultLabels({ server_id: src.serverId });
  // Not prom-client's default metrics: their GC observer and event-loop-delay sampler run all the
  // time (a callback per garbage collection under load); the process figures below are read when
  // scraped instead.
  const reg = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []): Gauge => new Gauge({ name, help, labelNames, registers: reg });
  const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    new Counter({ name, help, labelNames, registers: reg });

  const v = {
    inMsgs: counter('gnatsd_varz_in_msgs', 'Messages received from clients'),
    outMsgs: counter('gnatsd_varz_out_msgs', 'Messages sent to clients'),
    inBytes: counter('gnatsd_varz_in_bytes', 'Payload bytes received from clients'),
    outBytes: counter('gnatsd_varz_out_bytes', 'Payload bytes sent to clients'),
    slow: counter('gnatsd_varz_slow_consumers', 'Clients closed as slow consumers'),
    total: counter('gnatsd_varz_total_connections', 'Client connections accepted since start'),
    conns: gauge('gnatsd_varz_connections', 'Open client connections'),
    subs: gauge('gnatsd_varz_subscriptions', 'Subscriptions in the subscription table'),
    routes: gauge('gnatsd_varz_routes', 'Open routes to other servers'),
    mem: gauge('gnatsd_varz_mem', 'Resident set size in bytes'),
    uptime: gauge('sluice_uptime_seconds', 'Seconds since the server started'),
    info: gauge('sluice_server_info', 'Always 1; the labels name the server', ['server_name']),
  };
  const proc = {
    cpu: counter('process_cpu_seconds_total', 'User and system CPU time of the server process in seconds'),
    rss: gauge('process_resident_memory_bytes', 'Resident memory of the server process in bytes'),
    start: gauge('process_start_time_seconds', 'When the server process started, in seconds since the epoch'),
    heapUsed: gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes'),
    heapTotal: gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes'),
    external: gauge('nodejs_external_memory_bytes', 'Memory of Buffers and other objects outside the V8 heap, in bytes'),
  };
  const processStartSeconds = src.nowMs() / 1000 - process.uptime();
  const c = {
    num: gauge('gnatsd_connz_num_connections', 'Open client connections'),
    pending: gauge('gnatsd_connz_pending_bytes', 'Bytes queued for all open client connections'),
    closed: counter('sluice_connections_closed_total', 'Client connections closed since start, by reason', ['reason']),
  };
  const routeLabels = ['rid', 'remote_id', 'remote_name'];
  const r = {
    num: gauge('gnatsd_routez_num_routes', 'Open routes'),
    inMsgs: gauge('gnatsd_routez_in_msgs', 'Messages received over the route', routeLabels),
    outMsgs: gauge('gnatsd_routez_out_msgs', 'Messages sent over the route', routeLabels),
    inBytes: gauge('gnatsd_routez_in_bytes', 'Bytes received over the route', routeLabels),
    outBytes: gauge('gnatsd_routez_out_bytes', 'Bytes sent over the route', routeLabels),
    pending: gauge('gnatsd_routez_pending_bytes', 'Bytes queued for the route', routeLabels),
    subs: gauge('gnatsd_routez_subscriptions', 'Subscriptions the peer has', routeLabels),
  };
  const js = {
    disabled: gauge('jetstream_server_jetstream_disabled', '1 when JetStream is not enabled on this server'),
    streams: gauge('jetstream_server_total_streams', 'Streams'),
    consumers: gauge('jetstream_server_total_consumers', 'Consumers'),
    messages: gauge('jetstream_server_total_messages', 'Messages stored in all streams'),
    bytes: gauge('jetstream_server_total_message_bytes', 'Bytes stored in all streams'),
    apiTotal: counter('jetstream_server_api_requests', 'JetStream API requests'),
    apiErrors: counter('jetstream_server_api_errors', 'JetStream API requests answered with an error'),
  };
  const streamLabels = ['stream_name'];
  const s = {
    messages: gauge('jetstream_stream_total_messages', 'Messages in the stream', streamLabels),
    bytes: gauge('jetstream_stream_total_bytes', 'Bytes in the stream', streamLabels),
    firstSeq: gauge('jetstream_stream_first_seq', 'First sequence in the stream', streamLabels),
    lastSeq: gauge('jetstream_stream_last_seq', 'Last sequence in the stream', streamLabels),
    consumers: gauge('jetstream_stream_consumer_count', 'Consumers on the stream', streamLabels),
  };
  const consumerLabels = ['stream_name', 'consumer_name'];
  const k = {
    pending: gauge('jetstream_consumer_num_pending', 'Messages not yet delivered', consumerLabels),
    ackPending: gauge('jetstream_consumer_num_ack_pending', 'Messages delivered, not acknowledged', consumerLabels),
    redelivered: gauge('jetstream_consumer_num_redelivered', 'Messages redelivered', consumerLabels),
    waiting: gauge('jetstream_consumer_num_waiting', 'Pull requests waiting', consumerLabels),
    deliveredStream: gauge('jetstream_consumer_delivered_stream_seq', 'Last delivered stream sequence', consumerLabels),
    deliveredConsumer: gauge('jetstream_consumer_delivered_consumer_seq', 'Last delivered consumer sequence', consumerLabels),
    ackFloorStream: gauge('jetstream_consumer_ack_floor_stream_seq', 'Stream sequence of the ack floor', consumerLabels),
  };

  /** A counter set to an absolute total the server already keeps. */
  const setCounter = (m: Counter, value: number, labels?: Record<string, string>): void => {
    if (labels === undefined) {
      m.reset();
      m.inc(value);
    } else m.inc(labels, value);
  };

  const collect = (): void => {
    const st = src.stats;
    setCounter(v.inMsgs, st.inMsgs);
    setCounter(v.outMsgs, st.outMsgs);
    setCounter(v.inBytes, st.inBytes);
    setCounter(v.outBytes, st.outBytes);
    setCounter(v.slow, st.slowConsumers);
    setCounter(v.total, st.totalConnections);
    v.conns.set(src.connectionCount());
    v.subs.set(src.subscriptionCount());
    v.uptime.set(Math.max(0, (src.nowMs() - src.startMs) / 1000));
    v.info.set({ server_name: src.serverName }, 1);
    const cpu = process.cpuUsage();
    setCounter(proc.cpu, (cpu.user + cpu.system) / 1e6);
    const mem = process.memoryUsage();
    proc.rss.set(mem.rss);
    v.mem.set(mem.rss);
    proc.heapUsed.set(mem.heapUsed);
    proc.heapTotal.set(mem.heapTotal);
    proc.external.set(mem.external);
    proc.start.set(processStartSeconds);
    c.num.set(src.connectionCount());
    c.pending.set(src.pendingBytes());
    c.closed.reset();
    for (const [reason, n] of src.closedByReason()) setCounter(c.closed, n, { reason });

    // Series of things that can go away (routes, streams, consumers) start empty each scrape.
    const routes = src.routes();
    v.routes.set(routes.length);
    r.num.set(routes.length);
    for (const m of [r.inMsgs, r.outMsgs, r.inBytes, r.outBytes, r.pending, r.subs]) m.reset();
    for (const link of routes) {
      const l = { rid: String(link.rid), remote_id: link.peer?.id ?? '', remote_name: link.peer?.name ?? '' };
      r.inMsgs.set(l, link.inMsgs);
      r.outMsgs.set(l, link.outMsgs);
      r.inBytes.set(l, link.inBytes);
      r.outBytes.set(l, link.outBytes);
      r.pending.set(l, link.pendingBytes);
      r.subs.set(l, link.remoteSubs.size);
    }

    for (const m of [...Object.values(s), ...Object.values(k)]) m.reset();
    const service = src.jetstream();
    js.disabled.set(service === undefined ? 1 : 0);
    if (service === undefined) return;
    const jst = service.stats();
    js.streams.set(jst.streams);
    js.consumers.set(jst.consumers);
    js.messages.set(jst.messages);
    js.bytes.set(jst.bytes);
    setCounter(js.apiTotal, service.api.stats.total);
    setCounter(js.apiErrors, service.api.stats.errors);
    for (const info of service.streamInfos()) {
      const name = info.config.name;
      const l = { stream_name: name };
      s.messages.set(l, info.state.messages);
      s.bytes.set(l, info.state.bytes);
      s.firstSeq.set(l, info.state.first_seq);
      s.lastSeq.set(l, info.state.last_seq);
      s.consumers.set(l, info.state.consumer_count);
      for (const ci of service.consumerInfos(name)) {
        const cl = { stream_name: name, consumer_name: ci.name };
        k.pending.set(cl, ci.num_pending);
        k.ackPending.set(cl, ci.num_ack_pending);
        k.redelivered.set(cl, ci.num_redelivered);
        k.waiting.set(cl, ci.num_waiting);
        k.deliveredStream.set(cl, ci.delivered.stream_seq);
        k.deliveredConsumer.set(cl, ci.delivered.consumer_seq);
        k.ackFloorStream.set(cl, ci.ack_floor.stream_seq);
      }
    }
  };

  return {
    contentType: registry.contentType,
    async render() {
      collect();
      return registry.metrics();
    },
  };
}
