import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_JETSTREAM_STORE_DIR, loadConfigFile, loadConfigText } from './load.ts';
import { defaultWebSocketOptions, resolveOptions } from '../options.ts';
import { defaultClusterOptions } from '../cluster/options.ts';
import { defaultLeafNodeOptions, defaultLeafRemote } from '../leafnode/options.ts';

const load = (text: string, file = 'c.conf') => loadConfigText(text, file, { env: {} });

function assertConfigError(text: string, pattern: RegExp, file = 'c.conf'): void {
  assert.throws(
    () => load(text, file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('format detection', () => {
  test('a document that parses as JSON uses sluice keys', () => {
    const r = load('{"port": 4333, "maxPayload": "2MB"}');
    assert.equal(r.format, 'json');
    assert.deepEqual(r.options, { port: 4333, maxPayloadBytes: 2 * 1024 * 1024 });
  });

  test('braces that are not JSON are nats syntax', () => {
    const r = load('{ port: 4333\n max_payload: 2MB }');
    assert.equal(r.format, 'nats');
    assert.deepEqual(r.options, { port: 4333, maxPayloadBytes: 2 * 1024 * 1024 });
  });

  test('broken JSON that is not nats syntax either reports both', () => {
    assertConfigError('{"port": [1,,2]}', /^c\.conf:1:\d+: .*nor is it valid JSON/);
  });
});

describe('JSON config', () => {
  test('snake_case and camelCase keys', () => {
    const snake = load(`{
      "host": "127.0.0.1", "port": 0, "server_name": "s1", "http_port": 8222, "store_dir": "/d",
      "max_payload": 2048, "max_control_line": 1024, "max_pending": "128MB", "max_connections": 10,
      "max_subscriptions": 5, "ping_interval": "30s", "ping_max": 3, "auth_timeout": 1.5,
      "write_deadline": "2s", "log_level": "debug", "ports_file_dir": "/tmp/p",
      "jetstream_sync": "none", "jetstream_sync_interval": "5s"
    }`).options;
    const camel = load(`{
      "host": "127.0.0.1", "port": 0, "name": "s1", "httpPort": 8222, "storeDir": "/d",
      "maxPayload": 2048, "maxControlLine": 1024, "maxPending": "128MB", "maxConnections": 10,
      "maxSubscriptions": 5, "pingInterval": "30s", "pingMax": 3, "authTimeout": "1500ms",
      "writeDeadline": 2, "logLevel": "debug", "portsFileDir": "/tmp/p",
      "jetstreamSync": "none", "jetstreamSyncIntervalMs": 5000
    }`).options;
    const want = {
      host: '127.0.0.1',
      port: 0,
      serverName: 's1',
      httpPort: 8222,
      storeDir: '/d',
      jetstreamSync: 'none',
      jetstreamSyncIntervalMs: 5000,
      maxPayloadBytes: 2048,
      maxControlLineBytes: 1024,
      maxPendingBytes: 128 * 1024 * 1024,
      maxConnections: 10,
      maxSubscriptionsPerConnection: 5,
      pingIntervalMs: 30_000,
      maxPingsOutstanding: 3,
      authTimeoutMs: 1500,
      writeDeadlineMs: 2000,
      logLevel: 'debug',
      portsFileDir: '/tmp/p',
    };
    assert.deepEqual(snake, want);
    assert.deepEqual(camel, want);
    assert.doesNotThrow(() => resolveOptions(snake));
  });

  test('the option field names work too (so resolved options round-trip)', () => {
    const o = resolveOptions({ port: 0, pingIntervalMs: 5000 });
    assert.deepEqual(resolveOptions(load(JSON.stringify(o)).options), o);
  });

  test('null leaves the default', () => {
    assert.deepEqual(load('{"port": null}').options, {});
  });

  test('unknown keys are one warning each', () => {
    const r = load('{"port": 1, "cluster_port": 6222, "gateway": {}}');
    assert.deepEqual(r.options, { port: 1 });
    assert.deepEqual(r.warnings, ['unsupported config key "cluster_port" ignored', 'unsupported config key "gateway" ignored']);
  });

  test('wrong types and ranges are one line naming the key', () => {
    assertConfigError('{"port":"x"}', /^c\.conf: invalid value for "port": expected an integer 0\.\.65535.*, got "x"$/);
    assertConfigError('{"port": 70000}', /"port": expected an integer 0\.\.65535, got 70000$/);
    assertConfigError('{"max_payload": -5}', /"max_payload": expected a positive size in bytes up to 67108864, got -5$/);
    assertConfigError('{"max_payload": "lots"}', /"max_payload": expected a size in bytes/);
    assertConfigError('{"log_level": "loud"}', /"log_level": expected one of trace/);
    assertConfigError('{"ping_interval": "soon"}', /"ping_interval": expected a duration/);
    assertConfigError('{"ping_interval": "-5s"}', /"ping_interval": expected a positive duration such as "2m"/);
    assertConfigError('{"pingIntervalMs": 0}', /"pingIntervalMs": expected a positive duration in milliseconds, got 0$/);
    assertConfigError('{"name": 5}', /"name": expected a string, got 5$/);
    assertConfigError('{"jetstream_read_cache": -1}', /"jetstream_read_cache": expected .*, got -1$/);
    assertConfigError('{"jetstream_sync": "fast"}', /"jetstream_sync": expected one of committed, durable, none, got "fast"$/);
    assertConfigError('cluster { routes: ["tcp://x"] }', /"cluster": expected cluster\.routes\[0\] to be a route URL such as/);
    assertConfigError('cluster { name: "a b" }', /"cluster": expected cluster\.name to be a name without whitespace/);
    assertConfigError('cluster { advertise: "nohost" }', /"cluster": expected cluster\.advertise to be host:port/);
    assertConfigError('jetstream { sync: sometimes }', /"jetstream\.sync": expected one of committed, durable, none/);
    assertConfigError('jetstream { sync_interval: "soon" }', /"jetstream\.sync_interval": expected a duration/);
  });
});

describe('nats-server syntax: mapping table', () => {
  const table: [string, string, Record<string, unknown>][] = [
    ['host', 'host: 127.0.0.1', { host: '127.0.0.1' }],
    ['net (alias of host)', 'net: 10.0.0.1', { host: '10.0.0.1' }],
    ['port', 'port: 4333', { port: 4333 }],
    ['port -1 means random', 'port: -1', { port: 0 }],
    ['listen host:port', 'listen: 127.0.0.1:4333', { host: '127.0.0.1', port: 4333 }],
    ['listen [v6]:port', 'listen: "[::1]:4333"', { host: '::1', port: 4333 }],
    ['listen :port', 'listen: ":4333"', { port: 4333 }],
    ['listen port only', 'listen: 4333', { port: 4333 }],
    ['http host:port', 'http: localhost:8222', { httpHost: 'localhost', httpPort: 8222 }],
    ['http port', 'http: 8222', { httpPort: 8222 }],
    ['http_port', 'http_port: 8222', { httpPort: 8222 }],
    ['monitor_port', 'monitor_port: -1', { httpPort: 0 }],
    ['server_name', 'server_name: n1', { serverName: 'n1' }],
    ['max_payload size', 'max_payload: 2MB', { maxPayloadBytes: 2 * 1024 * 1024 }],
    ['max_payload quoted size', 'max_payload: "512KB"', { maxPayloadBytes: 512 * 1024 }],
    ['max_control_line', 'max_control_line: 8KB', { maxControlLineBytes: 8192 }],
    ['max_pending', 'max_pending: 32MB', { maxPendingBytes: 32 * 1024 * 1024 }],
    ['max_connections', 'max_connections: 100', { maxConnections: 100 }],
    ['max_conn', 'max_conn: 100', { maxConnections: 100 }],
    ['max_subscriptions', 'max_subscriptions: 0', { maxSubscriptionsPerConnection: 0 }],
    ['max_subs', 'max_subs: 10', { maxSubscriptionsPerConnection: 10 }],
    ['ping_interval string', 'ping_interval: "2m"', { pingIntervalMs: 120_000 }],
    ['ping_interval unquoted 2m is minutes, not 2M seconds', 'ping_interval: 2m', { pingIntervalMs: 120_000 }],
    ['ping_interval unquoted 10s', 'ping_interval: 10s', { pingIntervalMs: 10_000 }],
    ['ping_max', 'ping_max: 5', { maxPingsOutstanding: 5 }],
    ['authorization timeout seconds', 'authorization { timeout: 0.5 }', { authTimeoutMs: 500 }],
    ['authorization timeout duration', 'authorization { timeout: "3s" }', { authTimeoutMs: 3000 }],
    ['write_deadline', 'write_deadline: "10s"', { writeDeadlineMs: 10_000 }],
    ['jetstream block', 'jetstream { store_dir: "/js" }', { storeDir: '/js' }],
    ['jetstream store alias', 'jetstream { store: /js2 }', { storeDir: '/js2' }],
    ['jetstream read_cache (sluice key)', 'jetstream { store_dir: /js, read_cache: 32MB }', { storeDir: '/js', jetstreamReadCacheBytes: 32 * 1024 * 1024 }],
    ['jetstream read_cache 0 turns it off', 'jetstream { read_cache: 0 }', { storeDir: DEFAULT_JETSTREAM_STORE_DIR, jetstreamReadCacheBytes: 0 }],
    ['jetstream sync (sluice key)', 'jetstream { sync: durable }', { storeDir: DEFAULT_JETSTREAM_STORE_DIR, jetstreamSync: 'durable' }],
    ['jetstream sync_interval: always is durable', 'jetstream { sync_interval: always }', { storeDir: DEFAULT_JETSTREAM_STORE_DIR, jetstreamSync: 'durable' }],
    ['jetstream sync_interval duration', 'jetstream { sync_interval: 30s }', { storeDir: DEFAULT_JETSTREAM_STORE_DIR, jetstreamSyncIntervalMs: 30_000 }],
    ['jetstream: enabled', 'jetstream: enabled', { storeDir: DEFAULT_JETSTREAM_STORE_DIR }],
    ['jetstream: true', 'jetstream: true', { storeDir: DEFAULT_JETSTREAM_STORE_DIR }],
    ['jetstream: disabled', 'jetstream: disabled', {}],
    ['jetstream block with enabled: false', 'jetstream { enabled: false }', {}],
    ['top-level store_dir with jetstream', 'store_dir: /s\njetstream: on', { storeDir: '/s' }],
    ['ports_file_dir', 'ports_file_dir: /tmp', { portsFileDir: '/tmp' }],
    ['debug', 'debug: true', { logLevel: 'debug' }],
    ['trace', 'debug: true\ntrace: true', { logLevel: 'trace' }],
    ['debug false', 'debug: false', {}],
    ['log_level wins over debug', 'debug: true\nlog_level: warn', { logLevel: 'warn' }],
    ['keys are case-insensitive', 'PORT: 1\nServer_Name: x', { port: 1, serverName: 'x' }],
    ['variables', 'P: 4333\nport: $P', { port: 4333 }],
  ];
  for (const [name, text, want] of table) {
    test(name, () => {
      const r = load(text);
      assert.equal(r.format, 'nats');
      assert.deepEqual(r.options, want);
    });
  }

  test('a full nats-server config maps and resolves', () => {
    const r = load(`
      # a typical nats-server.conf
      server_name: hub-1
      listen: 0.0.0.0:4222
      http: 8222
      max_payload: 4MB
      ping_interval: "30s"
      jetstream {
        store_dir: "/var/lib/nats"
        max_memory_store: 1GB
      }
      authorization {
        user: admin
        password: secret
        timeout: 2
      }
      cluster {
        name: hub
        listen: 0.0.0.0:6222
        routes: [nats://a:6222, nats://b:6222]
        advertise: "10.0.0.5:16222"
      }
      websocket { port: 8080, no_tls: true }
      leafnodes { port: 7422 }
      mqtt { port: 1883 }
      tls { cert_file: "c.pem", key_file: "k.pem", cipher_suites: [x] }
      gateway { name: gw }
      lame_duck_duration: "2m"
    `);
    assert.deepEqual(r.options, {
      serverName: 'hub-1',
      host: '0.0.0.0',
      port: 4222,
      httpPort: 8222,
      maxPayloadBytes: 4 * 1024 * 1024,
      pingIntervalMs: 30_000,
      storeDir: '/var/lib/nats',
      jetstreamMaxMemory: 1024 ** 3,
      authTimeoutMs: 2000,
      user: 'admin',
      pass: 'secret',
      wsPort: 8080,
      websocket: { ...defaultWebSocketOptions(), noTls: true },
      leafnodes: { ...defaultLeafNodeOptions(), port: 7422 },
      cluster: { ...defaultClusterOptions(), name: 'hub', host: '0.0.0.0', port: 6222, routes: ['nats://a:6222', 'nats://b:6222'], advertise: '10.0.0.5:16222' },
      tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: undefined, verify: false, timeoutMs: 2000, handshakeFirst: false },
      lameDuckDurationMs: 120_000,
    });
    const keys = r.warnings.map((w) => /unsupported config key "([^"]+)"/.exec(w)?.[1]);
    assert.deepEqual(keys, ['mqtt', 'tls.cipher_suites', 'gateway']);
    assert.match(r.warnings[0]!, /^unsupported config key "mqtt" ignored \(c\.conf:25:7\)$/);
    assert.doesNotThrow(() => resolveOptions(r.options));
  });

  test('variable definitions are not reported as unsupported keys', () => {
    const r = load('TOKEN: abc\nauthorization { token: $TOKEN }\nunused_thing: 1');
    assert.deepEqual(
      r.warnings.map((w) => /"([^"]+)"/.exec(w)?.[1]),
      ['unused_thing'],
    );
  });

  test('integer seconds for a duration work, with the same nudge nats-server gives', () => {
    const r = load('ping_interval: 60');
    assert.deepEqual(r.options, { pingIntervalMs: 60_000 });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /"ping_interval" read as 60 seconds; write a duration such as "60s"/);
  });

  test('store_dir without JetStream enabled is ignored with a warning', () => {
    const r = load('store_dir: /s');
    assert.deepEqual(r.options, {});
    assert.match(r.warnings[0]!, /"store_dir" ignored: JetStream is not enabled/);
  });
});

describe('nats-server syntax: errors name the key and its position', () => {
  test('wrong types for supported keys are fatal', () => {
    assertConfigError('a: 1\nport: "abc"', /^c\.conf:2:1: invalid value for "port": expected an integer 0\.\.65535 .*got "abc"$/);
    assertConfigError('max_payload: true', /^c\.conf:1:1: invalid value for "max_payload": expected a size in bytes.*got true$/);
    assertConfigError('server_name: [a]', /"server_name": expected a string, got an array$/);
    assertConfigError('debug: 1', /"debug": expected true or false, got 1$/);
    assertConfigError('authorization: 5', /"authorization": expected a block/);
    assertConfigError('jetstream: maybe', /"jetstream": expected "enabled", "disabled"/);
    assertConfigError('listen: "nohost"', /"listen": expected a port or "host:port", got "nohost"$/);
    assertConfigError('ping_interval: 1k', /"ping_interval": expected a duration/);
  });

  test('out-of-range values name the key', () => {
    assertConfigError('port: 99999', /"port": expected an integer 0\.\.65535, got 99999$/);
    assertConfigError('max_payload: 100MB', /^c\.conf:1:1: invalid value for "max_payload": expected a positive size in bytes up to 67108864, got 104857600$/);
    assertConfigError('ping_interval: "-5s"', /"ping_interval": expected a positive duration/);
    assertConfigError('x: 1\nauthorization {\n  timeout: 0\n}', /^c\.conf:3:3: invalid value for "authorization\.timeout"/);
    assertConfigError('jetstream { store_dir: "" }', /^c\.conf:1:13: invalid value for "jetstream\.store_dir"/);
  });

  test('syntax errors keep their file:line:col', () => {
    assertConfigError('a: 1\nb: [1,,2]', /^c\.conf:2:7: unexpected ','/);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-load-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads JSON and nats files, with includes relative to the file', () => {
    writeFileSync(join(dir, 'a.json'), '\ufeff{"port": 5}');
    assert.deepEqual(loadConfigFile(join(dir, 'a.json')).options, { port: 5 });
    writeFileSync(join(dir, 'b.conf'), 'include "limits.conf"\nport: 6');
    writeFileSync(join(dir, 'limits.conf'), 'max_payload: 64KB');
    assert.deepEqual(loadConfigFile(join(dir, 'b.conf')).options, { maxPayloadBytes: 65536, port: 6 });
  });

  test('a missing file is one line', () => {
    assert.throws(() => loadConfigFile(join(dir, 'nope.conf')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `cannot read config file ${join(dir, 'nope.conf')}: no such file`);
      return true;
    });
  });
});

describe('operations keys (lame duck, log file, pid file)', () => {
  test('nats syntax: lame_duck_duration, lame_duck_grace_period, logfile/log_file, pid_file, debug/trace', () => {
    const r = load('lame_duck_duration: "30s"\nlame_duck_grace_period: "2s"\nlogfile: "/var/log/sluice.log"\npid_file: "/run/s.pid"\ndebug: true\ntrace: true\n');
    assert.equal(r.options.lameDuckDurationMs, 30_000);
    assert.equal(r.options.lameDuckGracePeriodMs, 2000);
    assert.equal(r.options.logFile, '/var/log/sluice.log');
    assert.equal(r.options.pidFile, '/run/s.pid');
    assert.equal(r.options.logLevel, 'trace');
    assert.deepEqual(r.warnings, []);
    assert.equal(load('log_file: x.log').options.logFile, 'x.log');
  });

  test('JSON: the same keys', () => {
    const r = load(JSON.stringify({ lame_duck_duration: '1m', lame_duck_grace_period: '5s', log_file: 'a.log', pid_file: 'p' }), 'c.json');
    assert.equal(r.options.lameDuckDurationMs, 60_000);
    assert.equal(r.options.lameDuckGracePeriodMs, 5000);
    assert.equal(r.options.logFile, 'a.log');
    assert.equal(r.options.pidFile, 'p');
  });

  test('a grace period not shorter than the duration is refused naming the field', () => {
    assert.throws(() => resolveOptions(load('lame_duck_duration: "10s"\nlame_duck_grace_period: "10s"\n').options), /"lameDuckGracePeriodMs": 10000 ms must be shorter than "lameDuckDurationMs"/);
    assert.throws(() => load('lame_duck_duration: "soon"\n'), /lame_duck_duration/);
  });
});

describe('leafnodes block', () => {
  test('hub and edge keys in nats-server syntax', () => {
    const r = load(`
      leafnodes {
        listen: "127.0.0.1:-1"
        authorization { user: leaf, password: s3cret }
        reconnect: "2s"
        remotes: [
          { url: "nats-leaf://u:p@hub:7422", deny_imports: ["private.>"], deny_exports: secret, tls { ca_file: "ca.pem" } }
          { urls: ["nats://a:7422", "nats://b:7422"], credentials: "/x.creds", account: "$G" }
        ]
      }
    `);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.options.leafnodes, {
      ...defaultLeafNodeOptions(),
      host: '127.0.0.1',
      port: 0,
      user: 'leaf',
      pass: 's3cret',
      reconnectMs: 2000,
      remotes: [
        {
          ...defaultLeafRemote(['nats-leaf://u:p@hub:7422']),
          denyImports: ['private.>'],
          denyExports: ['secret'],
          tls: { caFile: 'ca.pem', certFile: undefined, keyFile: undefined, verify: true },
        },
        { ...defaultLeafRemote(['nats://a:7422', 'nats://b:7422']), credentials: '/x.creds', account: '$G' },
      ],
    });
    assert.doesNotThrow(() => resolveOptions(r.options));
  });

  test('a bad remote is one line naming the field', () => {
    assertConfigError('leafnodes { remotes: [ { url: "http://x" } ] }', /"leafnodes\.remotes\[0\]\.url": expected a leafnode URL .*, got "http:\/\/x"$/);
    assertConfigError('leafnodes { remotes: [ { account: A } ] }', /"leafnodes\.remotes\[0\]\.url": expected a leafnode URL/);
    assertConfigError('leafnodes { port: "x" }', /"leafnodes\.port"/);
  });
});

describe('jetstream domain', () => {
  test('jetstream { domain } sets jetstreamDomain; a bad name is one line naming the key', () => {
    assert.equal(load('jetstream { store_dir: "/tmp/x", domain: edge1 }').options.jetstreamDomain, 'edge1');
    assertConfigError('jetstream { store_dir: "/tmp/x", domain: "a.b" }', /"jetstream\.domain": expected a domain name/);
  });
});
