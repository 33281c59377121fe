// The browser build of sluice/client: one ESM bundle (plus lazily loaded chunks) with no Node
// imports on its load path. node:buffer (used by protocol/) becomes the `buffer` package,
// node:crypto (runtime/ids.ts) becomes crypto.ts, the `process`/`setImmediate` globals of
// runtime/clock.ts come from node-globals.ts. The TCP transport (node:net, node:tls) stays in its
// own chunk, loaded only for nats:// and tls:// URLs, i.e. never in a browser.
//
//   node --import tsx client/browser/build.ts <outdir>

import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface BrowserBuild {
  /** The entry file name inside outdir (ESM). */
  entry: string;
  metafile: Metafile;
}

export async function buildBrowserClient(outdir: string, minify = false): Promise<BrowserBuild> {
  const result = await build({
    entryPoints: { 'sluice-client': join(here, 'index.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
    alias: {
      'node:buffer': 'buffer',
      'node:crypto': join(here, 'crypto.ts'),
    },
    inject: [join(here, 'node-globals.ts')],
    // Only reachable through the dynamic import of transport/tcp.ts and the Node 20 `ws` fallback.
    external: ['node:net', 'node:tls', 'ws'],
  });
  return { entry: 'sluice-client.js', metafile: result.metafile };
}

/**
 * Node modules imported by the bundle's load path: the entry and every chunk it imports
 * statically (chunks behind dynamic imports are excluded). Empty for a correct build.
 */
export function nodeImportsOnLoadPath(b: BrowserBuild, outdir: string): string[] {
  const outputs = b.metafile.outputs;
  const key = (name: string): string => Object.keys(outputs).find((k) => k.endsWith(name)) ?? name;
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (k: string): void => {
    if (seen.has(k) || outputs[k] === undefined) return;
    seen.add(k);
    for (const imp of outputs[k]!.imports) {
      if (imp.kind === 'dynamic-import') continue;
      if (imp.external) {
        if (imp.path.startsWith('node:') || imp.path === 'ws') found.push(imp.path);
      } else visit(imp.path);
    }
  };
  visit(key(b.entry));
  void outdir;
  return found;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = process.argv[2] ?? 'dist/browser';
  const b = await buildBrowserClient(outdir, true);
  const bad = nodeImportsOnLoadPath(b, outdir);
  if (bad.length > 0) throw new Error(`browser bundle imports Node modules: ${bad.join(', ')}`);
  process.stdout.write(`${join(outdir, b.entry)}\n`);
}
