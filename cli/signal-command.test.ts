import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignalRequest, rewriteSignalFlag, sendSignal } from './signal-command.ts';

test('commands map to nats-server\'s signals; the process is a pid or a pid file', () => {
  const files: Record<string, string> = { '/run/sluice.pid': '4321\n', '/run/bad.pid': 'nope' };
  const read = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };
  assert.deepEqual(parseSignalRequest('ldm=123', read), { command: 'ldm', signal: 'SIGUSR2', pid: 123 });
  assert.deepEqual(parseSignalRequest('reload=/run/sluice.pid', read), { command: 'reload', signal: 'SIGHUP', pid: 4321 });
  assert.equal(parseSignalRequest('stop=1', read).signal, 'SIGKILL');
  assert.equal(parseSignalRequest('quit=1', read).signal, 'SIGINT');
  assert.equal(parseSignalRequest('term=1', read).signal, 'SIGTERM');
  assert.equal(parseSignalRequest('reopen=1', read).signal, 'SIGUSR1');
  assert.throws(() => parseSignalRequest('pause=1', read), /invalid value for --signal: expected one of stop, quit/);
  assert.throws(() => parseSignalRequest('ldm', read), /a process after "ldm="/);
  assert.throws(() => parseSignalRequest('ldm=/run/none.pid', read), /cannot read pid file \/run\/none\.pid: ENOENT/);
  assert.throws(() => parseSignalRequest('ldm=/run/bad.pid', read), /does not hold a process id/);
});

test('a missing process is one clear line', () => {
  const gone = (): void => {
    throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
  };
  assert.throws(() => sendSignal({ command: 'ldm', signal: 'SIGUSR2', pid: 42 }, gone), /^CliError: --signal ldm: no process with pid 42$|--signal ldm: no process with pid 42/);
});

test('-sl is spelled --signal for commander', () => {
  assert.deepEqual(rewriteSignalFlag(['-sl', 'ldm=1', '-p', '0']), ['--signal', 'ldm=1', '-p', '0']);
  assert.deepEqual(rewriteSignalFlag(['-sl=reload=2']), ['--signal=reload=2']);
});
