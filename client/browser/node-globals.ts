// Injected into the browser bundle (esbuild `inject`): the two Node globals that runtime/clock.ts
// reaches for — `process.hrtime.bigint()` and `setImmediate` — built on performance.now() and a
// MessageChannel (a macrotask that is not clamped like nested setTimeout(0)).
//
// This is a build shim, not runtime code: it exists only in bundles made by build.ts.

const start = globalThis.performance.now();

export const process = {
  hrtime: {
    bigint: (): bigint => BigInt(Math.round((globalThis.performance.now() - start) * 1e6)),
  },
  env: {} as Record<string, string | undefined>,
};

const queue: (() => void)[] = [];
const channel = new MessageChannel();
channel.port1.onmessage = () => {
  const batch = queue.splice(0, queue.length);
  for (const fn of batch) fn();
};

interface ImmediateHandle {
  cancelled: boolean;
}

export function setImmediate(fn: () => void): ImmediateHandle {
  const h: ImmediateHandle = { cancelled: false };
  if (queue.length === 0) channel.port2.postMessage(0);
  queue.push(() => {
    if (!h.cancelled) fn();
  });
  return h;
}

export function clearImmediate(h: ImmediateHandle | undefined): void {
  if (h !== undefined) h.cancelled = true;
}
