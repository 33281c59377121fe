export { systemClock, ManualClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { seededRng, systemRng } from './rng.ts';
export type { Rng } from './rng.ts';
export { assert, unreachable, AssertionError } from './assert.ts';
export { silentLogger, MemoryLogger, LOG_LEVELS } from './logger.ts';
export type { Logger, LogLevel, LogFields } from './logger.ts';
export { newServerId, newToken } from './ids.ts';
