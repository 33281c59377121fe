// Shared command-line handling of scenario params for run.ts and compare.ts.

import type { Params, Scenario } from '../scenarios/types.ts';

/** Count flags by the param they set: `--msgs` sets `msgs`, `--requests` sets `requests`. */
export type CountFlags = Partial<Record<string, string | undefined>>;

/** The scenario's defaults with count flags (--msgs, --requests) and --param key=value applied. */
export function resolveParams(sc: Scenario, counts: CountFlags, overrides: readonly string[]): Params {
  const params: Params = { ...sc.params };
  const count = counts[sc.countParam];
  if (count !== undefined) {
    const n = Number(count);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${sc.countParam} must be a positive integer (got ${count})`);
    params[sc.countParam] = n;
  }
  for (const kv of overrides) {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq);
    const raw = kv.slice(eq + 1);
    if (eq < 1) throw new Error(`--param ${kv}: expected key=value`);
    if (!(key in sc.params)) continue; // a key for another selected scenario
    const def = sc.params[key];
    params[key] = typeof def === 'number' ? Number(raw) : typeof def === 'boolean' ? raw === 'true' : raw;
    if (typeof def === 'number' && Number.isNaN(params[key])) throw new Error(`--param ${kv}: not a number`);
  }
  return params;
}

export function listScenarios(scenarios: readonly Scenario[]): string {
  return scenarios
    .map((s) => {
      const ps = Object.entries(s.params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      return `${s.name.padEnd(14)} [${s.group}] ${s.description}\n${''.padEnd(15)}${ps}`;
    })
    .join('\n');
}
