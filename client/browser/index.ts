// Entry of the browser bundle (see build.ts): the Buffer compatibility layer first, then the
// client's public API, unchanged.
import './buffer-compat.ts';

export * from '../index.ts';
