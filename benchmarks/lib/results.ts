// Run metadata (commit, versions, machine) and the NDJSON results files under benchmarks/results/.

import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RunMeta {
  date: string;
  commit: string | null;
  /** Uncommitted changes in the checkout when the run started. */
  dirty: boolean | null;
  node: string;
  natsServer: string | null;
  cpus: number;
  cpuModel: string;
}

function git(repoRoot: string, args: string[]): string | null {
  const r = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function collectMeta(repoRoot: string, natsServer: string | null): RunMeta {
  const porcelain = git(repoRoot, ['status', '--porcelain']);
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    commit: git(repoRoot, ['rev-parse', '--short', 'HEAD']),
    dirty: porcelain === null ? null : porcelain.length > 0,
    node: process.version,
    natsServer,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
  };
}

export function appendResult(resultsDir: string, group: string, record: object): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${group}.ndjson`);
  appendFileSync(file, `${JSON.stringify(record)}\n`);
  return file;
}
