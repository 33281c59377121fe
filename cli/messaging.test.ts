// pub, sub, req, reply, rtt against an in-process broker, run through runCli with captured output.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../server/index.ts';
import { startTestServer } from '../tests/helpers/server.ts';
import { cli, LiveCli, oneErrorLine } from '../tests/helpers/cli.ts';
import { expandTemplate } from './messages.ts';

let server: RunningServer;
let url: string;

before(async () => {
  server = await startTestServer();
  url = server.clientUrl;
});
after(async () => {
  await server.close();
});

describe('pub and sub', () => {
  test('sub prints what pub sends, with headers and a {{Count}} template; --count ends it', async () => {
    const sub = new LiveCli(['sub', 'greet.*', '--count', '3', '-s', url]);
    await sub.waitFor(/Subscribing on "greet\.\*"/);
    const pub = await cli(['-s', url, 'pub', 'greet.en', 'hello {{Count}}', '--count', '3', '-H', 'Lang:en']);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, '');
    assert.match(pub.stderr, /^Published 3 messages \(21 B\) to "greet\.en"\n$/);
    const r = await sub.result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      ['[#1] Received on "greet.en"', 'Lang: en', '', 'hello 1', '', '[#2] Received on "greet.en"', 'Lang: en', '', 'hello 2', '', '[#3] Received on "greet.en"', 'Lang: en', '', 'hello 3', '', ''].join('\n'),
    );
  });

  test('--raw prints bodies only; --headers adds the headers; --stdin gives the body', async () => {
    const sub = new LiveCli(['sub', 'raw.x', '--count', '2', '--raw', '--headers', '-s', url]);
    await sub.waitFor(/Subscribing/);
    assert.equal((await cli(['pub', 'raw.x', '-s', url, '--stdin', '-H', 'A: 1'], { stdin: 'from stdin' })).code, 0);
    assert.equal((await cli(['pub', 'raw.x', 'plain', '-s', url])).code, 0);
    const r = await sub.result();
    assert.equal(r.stdout, 'A: 1\nfrom stdin\nplain\n');
  });

  test('a queue subscriber shares messages with its group; Ctrl-C stops sub cleanly', async () => {
    const a = new LiveCli(['sub', 'work', '--queue', 'q', '--raw', '-s', url]);
    const b = new LiveCli(['sub', 'work', '--queue', 'q', '--raw', '-s', url]);
    await a.waitFor(/in queue group "q"/);
    await b.waitFor(/in queue group "q"/);
    assert.equal((await cli(['pub', 'work', 'job', '--count', '20', '-s', url])).code, 0);
    await a.waitFor(/[\s\S]*/, 'stdout');
    const lines = (): number => (a.stdout + b.stdout).split('\n').filter((l) => l === 'job').length;
    const { waitFor } = await import('../tests/helpers/deadline.ts');
    await waitFor(() => lines() === 20, '20 deliveries across the group');
    a.stop();
    b.stop();
    assert.equal((await a.result()).code, 0);
    assert.equal((await b.result()).code, 0);
  });

  test('bad input: malformed --count, a bad header, an invalid subject, an unknown template', async () => {
    oneErrorLine(await cli(['pub', 'x', 'y', '--count', 'many', '-s', url]), /invalid value for --count: expected an integer >= 1, got "many"$/);
    oneErrorLine(await cli(['pub', 'x', 'y', '-H', 'novalue', '-s', url]), /invalid value for --header: expected K:V, got "novalue"$/);
    oneErrorLine(await cli(['pub', 'a b', 'y', '-s', url]), /invalid publish subject 'a b'/);
    oneErrorLine(await cli(['pub', 'x', '{{Nope}}', '-s', url]), /unknown template function \{\{Nope\}\}/);
    oneErrorLine(await cli(['sub', 'x', '--count', '0', '-s', url]), /--count/);
  });
});

describe('req and reply', () => {
  test('reply answers req with a template over the request; --count ends it', async () => {
    const rep = new LiveCli(['reply', 'svc.echo', 'you said: {{Request}} (#{{Count}})', '--count', '2', '-s', url]);
    await rep.waitFor(/Listening on "svc\.echo" in group "NATS-RPLY-22"/);
    const r1 = await cli(['req', 'svc.echo', 'hi', '-s', url]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, 'you said: hi (#1)\n\n');
    assert.match(r1.stderr, /^Received with rtt \S+\n$/);
    const r2 = await cli(['req', 'svc.echo', 'again', '--raw', '-s', url]);
    assert.equal(r2.stdout, 'you said: again (#2)\n');
    assert.equal(r2.stderr, '');
    const done = await rep.result();
    assert.equal(done.code, 0);
    assert.match(done.stdout, /\[#1\] Received on "svc\.echo" with reply "_INBOX\.[^"]+"\nhi\n\n\[#2\]/);
  });

  test('reply --echo returns the request with its headers', async () => {
    const rep = new LiveCli(['reply', 'svc.mirror', '--echo', '--count', '1', '-s', url]);
    await rep.waitFor(/Listening/);
    const r = await cli(['req', 'svc.mirror', 'ping', '-H', 'X-Id:7', '-s', url]);
    assert.equal(r.stdout, 'X-Id: 7\n\nping\n\n');
    assert.equal((await rep.result()).code, 0);
  });

  test('no responders and a timeout are one line each, exit 1', async () => {
    oneErrorLine(await cli(['req', 'nobody.home', 'x', '-s', url]), /^sluice: no responders for 'nobody\.home'$/);
    const silent = new LiveCli(['sub', 'slow.svc', '-s', url]);
    await silent.waitFor(/Subscribing/);
    oneErrorLine(await cli(['req', 'slow.svc', 'x', '-s', url, '--timeout', '200ms']), /^sluice: no answer within 200ms \(request timed out\)$/);
    silent.stop();
    await silent.result();
  });
});

describe('rtt and connection flags', () => {
  test('rtt prints each round trip and the average; --json is parseable', async () => {
    const r = await cli(['rtt', '3', '-s', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nats:\/\/127\.0\.0\.1:\d+:\n\n  #1: rtt=\S+\n  #2: rtt=\S+\n  #3: rtt=\S+\n\n  average: \S+\n$/);
    const j = JSON.parse((await cli(['rtt', '2', '--json', '-s', url])).stdout) as { iterations: number; rtt_ns: number[] };
    assert.equal(j.iterations, 2);
    assert.equal(j.rtt_ns.length, 2);
  });

  test('the server comes from -s before or after the command, else SLUICE_URL, else NATS_URL', async () => {
    assert.equal((await cli(['-s', url, 'rtt', '1'])).code, 0);
    assert.equal((await cli(['rtt', '1', '--server', url])).code, 0);
    assert.equal((await cli(['rtt', '1'], { env: { NATS_URL: url } })).code, 0);
    assert.equal((await cli(['rtt', '1'], { env: { SLUICE_URL: url, NATS_URL: 'nats://127.0.0.1:1' } })).code, 0);
    // The flag nearest the command wins.
    assert.equal((await cli(['-s', 'nats://127.0.0.1:1', 'rtt', '1', '-s', url])).code, 0);
  });

  test('an unreachable server is one clear line; bad connection flags name the flag', async () => {
    oneErrorLine(await cli(['pub', 'x', 'y', '-s', 'nats://127.0.0.1:1']), /^sluice: cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused$/);
    oneErrorLine(await cli(['rtt', '--timeout', 'soon', '-s', url]), /invalid value for --timeout: expected a duration/);
    oneErrorLine(await cli(['rtt', '-s', 'http://x']), /unsupported URL scheme 'http'/);
    oneErrorLine(await cli(['rtt', '--nkey', '/nonexistent/seed.nk', '-s', url]), /cannot read --nkey file \/nonexistent\/seed\.nk: no such file/);
    oneErrorLine(await cli(['rtt', '--tlscert', 'c.pem', '-s', url]), /--tlscert and --tlskey go together/);
  });

  test('errors are red on a terminal', async () => {
    const r = await cli(['pub', 'x', '--count', 'z'], { stderrIsTTY: true });
    assert.equal(r.stderr, '\x1b[31msluice: invalid value for --count: expected an integer >= 1, got "z"\x1b[0m\n');
  });
});

describe('body templates', () => {
  test('Count, Cnt, TimeStamp, Unix, UnixNano, ID and Request expand; spaces and a leading dot are allowed', () => {
    const v = { count: 7, nowMs: Date.UTC(2026, 0, 2, 3, 4, 5), id: () => 'ID1', request: 'req' };
    assert.equal(expandTemplate('{{Count}} {{ .Cnt }} {{Unix}} {{UnixNano}} {{ID}} {{Request}}', v), '7 7 1767323045 1767323045000000000 ID1 req');
    assert.match(expandTemplate('{{TimeStamp}}', v), /^2026-01-02T\d\d:04:05(Z|[+-]\d\d:\d\d)$/);
    assert.equal(expandTemplate('no template', v), 'no template');
  });
});
