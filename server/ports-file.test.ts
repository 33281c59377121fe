import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portsFileName, removePortsFile, writePortsFile } from './ports-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-ports-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes <dir>/<name>_<pid>.ports in nats-server shape, empty lists omitted', () => {
  const path = writePortsFile(dir, 'n1', 1234, {
    nats: ['nats://127.0.0.1:4222'],
    monitoring: ['http://127.0.0.1:8222'],
    websocket: [],
  });
  assert.equal(path, join(dir, 'n1_1234.ports'));
  assert.equal(readFileSync(path, 'utf8'), '{"nats":["nats://127.0.0.1:4222"],"monitoring":["http://127.0.0.1:8222"]}');
  assert.deepEqual(readdirSync(dir), ['n1_1234.ports'], 'no temp file left behind');
  removePortsFile(path);
  assert.equal(existsSync(path), false);
  assert.doesNotThrow(() => removePortsFile(path), 'removing twice is fine');
});

test('creates the directory and keeps the name file-system safe', () => {
  const sub = join(dir, 'a', 'b');
  const path = writePortsFile(sub, '../evil name', 7, { nats: ['nats://x:1'], cluster: ['nats://x:2'] });
  assert.equal(path, join(sub, '.._evil_name_7.ports'));
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { nats: ['nats://x:1'], cluster: ['nats://x:2'] });
  assert.equal(portsFileName('', 9), 'sluice_9.ports');
});
