// Enforces the layering in docs/DESIGN.md: which top-level folder may import which.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

const allowed: Record<string, string[]> = {
  runtime: [],
  protocol: ['runtime'],
  raft: ['runtime'],
  streams: ['runtime', 'protocol', 'raft'],
  server: ['runtime', 'protocol', 'raft', 'streams'],
  client: ['runtime', 'protocol'],
  cli: ['server/index.ts', 'client/index.ts'],
  examples: ['server/index.ts', 'client/index.ts'],
};
/** node: modules a pure layer may not touch. */
const pure = new Set(['protocol', 'raft']);
/**
 * Layers the browser bundle of the client is built from: they must take Buffer from
 * 'node:buffer' (which the bundle maps to its shim), never from the global, which browsers lack.
 */
const bundled = new Set(['protocol', 'client', 'runtime']);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.bench.ts')) yield p;
  }
}

const problems: string[] = [];
for (const layer of Object.keys(allowed)) {
  const dir = join(root, layer);
  try {
    statSync(dir);
  } catch {
    continue;
  }
  for (const file of files(dir)) {
    const src = readFileSync(file, 'utf8');
    if (bundled.has(layer) && /(?<![\w.'"])Buffer\.\w/.test(src.replace(/^\s*(\/\/|\*).*$/gm, '')) && !/import\s*\{[^}]*\bBuffer\b[^}]*\}\s*from\s*'node:buffer'/.test(src)) {
      problems.push(`${relative(root, file)}: uses the global Buffer; import { Buffer } from 'node:buffer' (browsers have no global)`);
    }
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const targetPath = relative(root, resolve(dirname(file), spec));
        const target = targetPath.split(sep)[0]!;
        if (target !== layer && !allowed[layer]!.includes(target) && !allowed[layer]!.includes(targetPath)) {
          problems.push(`${relative(root, file)}: ${layer}/ may not import ${target}/ (${spec})`);
        }
      } else if (pure.has(layer) && spec.startsWith('node:') && spec !== 'node:buffer') {
        problems.push(`${relative(root, file)}: ${layer}/ is pure and may not import ${spec}`);
      }
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
