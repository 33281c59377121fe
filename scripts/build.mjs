// The JavaScript build: what `npm install sluice` and a built checkout run (docs/adr/0011-shipping-javascript.md).
//
//   node scripts/build.mjs              dist/: bundles, source maps, declarations
//   node scripts/build.mjs --js-only    bundles and source maps only (no tsc; for quick local runs)
//
// esbuild bundles each public entry point (sluice/server, sluice/client, sluice/protocol and the
// CLI) into dist/<entry>.js, with code shared between entries and everything behind a dynamic
// import() in chunks next to them; npm packages stay external (loaded with require()). Every output file sits
// directly in dist/, so `new URL('../package.json', import.meta.url)` in any bundled module still
// finds the package's own package.json. tsc writes the declarations to dist/types/ without type
// checking them (`npm run typecheck` does that); their relative `.ts` import specifiers are
// rewritten to `.js`, which TypeScript maps back to the `.d.ts` files.
//
// The build is written to a temporary folder and renamed into place, so a process starting from
// dist/ while a build runs sees the old build or the new one, never half of one.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * npm packages stay outside the bundle and are loaded with require(), not import: every
 * dependency ships CommonJS (lmdb and msgpackr as one prebuilt file, where their ESM entry is a
 * tree of modules), and Node's CommonJS loader reads them without the ESM loader's per-module
 * resolve/link steps and export scan. Measured on `sluice server` start-up: ~80 ms and ~2 MiB less.
 * Each output file gets its own `require` (the banner), bound to its location in dist/.
 */
const requirePackages = {
  name: 'require-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || args.kind === 'require-call') return { path: args.path, external: true };
      return { path: args.path, namespace: 'npm-package' };
    });
    b.onLoad({ filter: /.*/, namespace: 'npm-package' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};
const REQUIRE_BANNER = 'import { createRequire as __sluiceCreateRequire } from "node:module"; const require = __sluiceCreateRequire(import.meta.url);';

const BUILD_OPTIONS = {
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [requirePackages],
  banner: { js: REQUIRE_BANNER },
  sourcemap: true,
  // The maps carry the TypeScript sources, so stack traces and debuggers work without them.
  sourcesContent: true,
  // No keepNames: without minifying, esbuild renames only top-level symbols that collide between
  // modules, and nothing reads fn.name or constructor.name (err.name comes from the prototype).
  // keepNames wraps every named closure in __name(), a defineProperty at each creation that also
  // gives the closure its own property store: ~2.3 KiB per client connection (9 closures) and
  // time on every path that makes closures (benchmarks/README.md, storm).
  write: false,
  logLevel: 'warning',
};

/**
 * Two builds into one folder: the library entries share chunks among themselves; the CLI is
 * bundled on its own (its chunks are prefixed cli-), so `sluice server` loads a few large files
 * instead of the dozen small chunks that code shared with the library entries would be split into
 * (each ESM module costs a resolve, a read and a link at start-up).
 */
async function bundle(outdir) {
  const entries = (names) => Object.fromEntries(names.map((name) => [name, join(root, ENTRIES[name])]));
  const results = await Promise.all([
    build({ ...BUILD_OPTIONS, outdir, entryPoints: entries(['server', 'client', 'protocol']) }),
    build({ ...BUILD_OPTIONS, outdir, entryPoints: entries(['cli']), chunkNames: 'cli-[name]-[hash]' }),
  ]);
  for (const file of results.flatMap((r) => r.outputFiles)) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  addShebang(join(outdir, 'cli.js'));
  // The monitoring dashboard's plain files: server/monitor/dashboard.ts finds them in ./dashboard/
  // beside itself, which for the bundles in dist/ is dist/dashboard/.
  cpSync(join(root, 'server', 'monitor', 'dashboard'), join(outdir, 'dashboard'), { recursive: true });
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
