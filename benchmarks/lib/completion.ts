// What a scenario awaits after publishing: the moment its subscribers have everything, or the
// first failure, or a timeout. Settled by the scenario's callbacks (each read checks its counts);
// the timer stops once it settles. A rejection before the scenario awaits (a connection failing
// while it still publishes) is not reported as unhandled: the scenario awaits `promise` later.

export interface Completion<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** A completion that rejects with `timeoutMessage()` after `timeoutMs`. */
export function completion<T>(timeoutMs: number, timeoutMessage: () => string): Completion<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  const timer = setTimeout(() => reject(new Error(timeoutMessage())), timeoutMs);
  timer.unref(); // a scenario that failed before awaiting must not keep the process up
  const stop = (): void => clearTimeout(timer);
  promise.then(stop, stop);
  return { promise, resolve, reject };
}
