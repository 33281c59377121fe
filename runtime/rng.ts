// Seeded pseudo-random numbers. Nothing outside runtime/ calls Math.random, so a seed replays a run.

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** The seed this generator started from (for printing on failure). */
  readonly seed: number;
}

/** mulberry32: tiny, fast, good enough statistical quality for simulation and jitter. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n: number) => Math.floor(next() * n),
  };
}

/** A generator seeded from the OS entropy pool: for ids and jitter in production. */
export function systemRng(): Rng {
  // eslint-disable-next-line no-restricted-properties -- the single sanctioned entropy source
  return seededRng((Math.random() * 0x1_0000_0000) >>> 0);
}
