// The JavaScript build: what `npm install sluice` and a built checkout run (docs/adr/0011-shipping-javascript.md).
//
//   node scripts/build.mjs              dist/: bundles, source maps, declarations
//   node scripts/build.mjs --js-only    bundles and source maps only (no tsc; for quick local runs)
//
// esbuild bundles each public entry point (sluice/server, sluice/client, sluice/protocol and the
// CLI) into dist/<entry>.js, with code shared between entries and everything behind a dynamic
// import() in chunks next to them; npm packages stay external imports. Every output file sits
// directly in dist/, so `new URL('../package.json', import.meta.url)` in any bundled module still
// finds the package's own package.json. tsc writes the declarations to dist/types/ without type
// checking them (`npm run typecheck` does that); their relative `.ts` import specifiers are
// rewritten to `.js`, which TypeScript maps back to the `.d.ts` files.
//
// The build is written to a temporary folder and renamed into place, so a process starting from
// dist/ while a build runs sees the old build or the new one, never half of one.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSourceMtimeMs, STAMP_FILE } from './dist-fresh.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Entry name -> source; `cli` is also package.json's `bin`. */
export const ENTRIES = {
  server: 'server/index.ts',
  client: 'client/index.ts',
  protocol: 'protocol/index.ts',
  cli: 'cli/main.ts',
};

async function bundle(outdir) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, join(root, src)])),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    // The maps carry the TypeScript sources, so stack traces and debuggers work without them.
    sourcesContent: true,
    // Class and function names show up in logs and errors (err.name, constructor names).
    keepNames: true,
    write: false,
    logLevel: 'warning',
  });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  addShebang(join(outdir, 'cli.js'));
}

/** dist/cli.js is package.json's `bin`: npm links it into node_modules/.bin, so it needs a #! line. */
function addShebang(file) {
  writeFileSync(file, `#!/usr/bin/env node\n${readFileSync(file, 'utf8')}`);
  // The map's lines move down by one: an empty first line in `mappings` is one ';'.
  const mapFile = `${file}.map`;
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  map.mappings = `;${map.mappings}`;
  writeFileSync(mapFile, JSON.stringify(map));
}

function declarations(outdir) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(outdir, 'types')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`tsc (declarations) exited with ${r.status ?? r.signal}`);
  rewriteSpecifiers(join(outdir, 'types'));
}

/** `from './x.ts'` -> `from './x.js'` in every .d.ts below dir (relative specifiers only). */
function rewriteSpecifiers(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) rewriteSpecifiers(p);
    else if (name.endsWith('.d.ts')) {
      const text = readFileSync(p, 'utf8');
      const out = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3');
      if (out !== text) writeFileSync(p, out);
    }
  }
}

export async function buildDist({ jsOnly = false } = {}) {
  const dist = join(root, 'dist');
  const tmp = join(root, `.dist-build-${process.pid}`);
  // Sources changed after this instant make the build stale (scripts/dist-fresh.mjs).
  const sourcesMtimeMs = newestSourceMtimeMs(root);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await bundle(tmp);
    if (!jsOnly) declarations(tmp);
    writeFileSync(join(tmp, STAMP_FILE), `${JSON.stringify({ sourcesMtimeMs, types: !jsOnly })}\n`);
    rmSync(dist, { recursive: true, force: true });
    renameSync(tmp, dist);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dist;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const dist = await buildDist({ jsOnly: process.argv.includes('--js-only') });
  process.stdout.write(`built ${dist} in ${Math.round(performance.now() - started)} ms\n`);
}
