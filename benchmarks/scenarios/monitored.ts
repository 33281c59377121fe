// pubsub-monitored: pubsub-16B on a server with its monitoring port on, scraped once a second the
// way a Prometheus setup does (sluice: /metrics and /connz; nats-server, which has no /metrics:
// /varz and /connz, what the Prometheus NATS exporter reads). Its bar is against the same server
// kind without monitoring, run right after it in every round (`baseline`): monitoring may cost at
// most 5 % of the msgs/s.

import { pubsubScenario } from './pubsub.ts';
import type { Scenario } from './types.ts';

export function pubsubMonitoredScenario(msgs: number): Scenario {
  const base = pubsubScenario('16B', 16, msgs);
  return {
    ...base,
    name: 'pubsub-monitored',
    group: 'monitoring',
    description: '1 publisher -> 1 subscriber, 16 B, /metrics (nats-server: /varz) and /connz scraped every second',
    params: { ...base.params, scrapeMs: 1000 },
    needs: ['monitoring'],
    metrics: [...base.metrics, { key: 'scrapes', label: 'scrapes', better: 'higher' }],
    bar: undefined,
    baseline: { scenario: base.name, op: '>=', ratio: 0.95 },
    async run(ctx) {
      const httpPort = ctx.server.httpPort;
      if (httpPort === undefined) throw new Error('pubsub-monitored needs a monitoring port');
      const paths = ctx.server.kind === 'nats' ? ['/varz', '/connz'] : ['/metrics', '/connz'];
      let scrapes = 0;
      let failure: Error | null = null;
      let inFlight: Promise<void> = Promise.resolve();
      const scrape = async (): Promise<void> => {
        for (const p of paths) {
          const res = await fetch(`http://${ctx.server.host}:${httpPort}${p}`);
          if (!res.ok) throw new Error(`${p}: HTTP ${res.status}`);
          await res.arrayBuffer();
        }
        scrapes++;
      };
      // One scrape at a time, as Prometheus does per target; the first right away.
      const tick = (): void => {
        inFlight = inFlight.then(scrape).catch((err: Error) => void (failure ??= err));
      };
      tick();
      const timer = setInterval(tick, Number(ctx.params.scrapeMs));
      try {
        const metrics = await base.run(ctx);
        if (failure !== null) throw failure;
        return { ...metrics, scrapes };
      } finally {
        clearInterval(timer);
        await inFlight;
      }
    },
  };
}
