// Is dist/ built from the sources as they are now? In a checkout, bin/sluice and the benchmarks run
// dist/ only when it is, and otherwise the TypeScript through tsx, so an edit is never hidden
// behind an old build. An installed package has no sources next to dist/ and never asks.
//
// The build records the newest modification time of the bundled sources as it starts; the build
// is fresh while no source file is newer. Walking the ~250 source files costs a few milliseconds.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders esbuild bundles into dist/ (scripts/build.mjs). */
export const SOURCE_DIRS = ['runtime', 'protocol', 'raft', 'streams', 'server', 'client', 'cli'];
/** Written by scripts/build.mjs into dist/. */
export const STAMP_FILE = 'build-info.json';

function isBundledSource(name) {
  return name.endsWith('.ts') && !/\.(test|bench|e2e)\.ts$/.test(name);
}

function newestIn(dir, newest) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = newestIn(p, newest);
    // The dashboard's plain files are copied into dist/ as they are (scripts/build.mjs).
    else if (isBundledSource(e.name) || dir.endsWith(join('monitor', 'dashboard'))) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function newestSourceMtimeMs(root) {
  let newest = 0;
  for (const d of SOURCE_DIRS) newest = newestIn(join(root, d), newest);
  return newest;
}

/** True when root/dist holds a build of the current sources. */
export function distIsFresh(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, 'dist', STAMP_FILE), 'utf8'));
  } catch {
    return false;
  }
  return typeof stamp.sourcesMtimeMs === 'number' && newestSourceMtimeMs(root) <= stamp.sourcesMtimeMs;
}
