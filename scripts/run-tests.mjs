// Test entry for `npm test` and `npm run test:e2e`. Node 20's test runner has no glob support, so
// this finds the files and hands them to `node --import tsx --test`.
//   node scripts/run-tests.mjs            unit + integration tests (*.test.ts), excluding tests/e2e
//   node scripts/run-tests.mjs --e2e      tests/e2e/**/*.e2e.ts (need system packages)
//   node scripts/run-tests.mjs path ...   only files under the given paths

import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const e2e = args.includes('--e2e');
const roots = args.filter((a) => !a.startsWith('--'));
const suffix = e2e ? '.e2e.ts' : '.test.ts';
const skipDirs = new Set(['node_modules', '.git', 'data']);

function collect(dir, out) {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (st.isFile()) {
    if (dir.endsWith(suffix)) out.push(dir);
    return;
  }
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const p = join(dir, name);
    if (!e2e && relative(root, p) === join('tests', 'e2e')) continue;
    collect(p, out);
  }
}

const files = [];
const searchRoots = roots.length ? roots : e2e ? ['tests/e2e'] : ['runtime', 'protocol', 'raft', 'streams', 'server', 'client', 'cli', 'examples', 'benchmarks', 'tests'];
for (const r of searchRoots) collect(join(root, r), files);
files.sort();
if (files.length === 0) {
  console.error(`no ${suffix} files found`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? (e2e ? '1' : '2');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
