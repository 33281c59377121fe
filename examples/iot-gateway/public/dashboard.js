// The dashboard page (plain JavaScript: the browser loads it as is). It connects to the broker
// over WebSocket with the browser build of sluice/client, shows the last stored reading of every
// subject from the TELEMETRY stream, then draws live readings as they arrive. The client
// reconnects by itself and re-sends the subscription; after a reconnect the page reloads the
// stored readings, which covers what it missed while it was offline.

import { connect, jetstreamManager } from '/client/sluice-client.js';

const HISTORY = 60; // points per sparkline
const STALE_MS = 5000; // a reading older than this is greyed out
const MAX_STORED_SUBJECTS = 500;
const SVG = 'http://www.w3.org/2000/svg';

/** What the page has seen; window.dashboard, for the curious and for tests. */
const state = {
  status: 'connecting',
  /** Readings received live since the page loaded. */
  live: 0,
  /** Readings loaded from the stream. */
  stored: 0,
  disconnects: 0,
  reconnects: 0,
  /** subject -> { value, unit, ts, source: 'live' | 'stored' } of the newest reading shown. */
  subjects: {},
};
window.dashboard = state;

const $ = (id) => document.getElementById(id);
const decoder = new TextDecoder();
/** subject -> { row, value, line, points, lastTs } */
const rows = new Map();

function setStatus(s) {
  state.status = s;
  $('status').textContent = s;
  $('status').className = `status ${s}`;
}

/** Appends el to parent keeping children ordered by data-key. */
function insertSorted(parent, el) {
  const after = [...parent.children].find((c) => c.dataset.key !== undefined && c.dataset.key > el.dataset.key);
  parent.insertBefore(el, after ?? null);
}

function child(parent, key, make) {
  const found = [...parent.children].find((c) => c.dataset.key === key);
  if (found) return found;
  const el = make();
  el.dataset.key = key;
  insertSorted(parent, el);
  return el;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function rowFor(subject, site, device, metric) {
  let r = rows.get(subject);
  if (r) return r;
  const section = child($('sites'), site, () => {
    const s = element('section');
    s.append(element('h2', '', site), element('div', 'devices'));
    return s;
  });
  const card = child(section.querySelector('.devices'), device, () => {
    const c = element('div', 'device');
    c.append(element('h3', '', device));
    return c;
  });
  const row = child(card, metric, () => element('div', 'metric'));
  row.dataset.subject = subject;
  const value = element('span', 'value');
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${HISTORY - 1} 20`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS(SVG, 'polyline');
  svg.append(line);
  row.append(element('span', 'name', metric), value, svg);
  r = { row, value, line, points: [], lastTs: 0 };
  rows.set(subject, r);
  return r;
}

function draw(r) {
  const min = Math.min(...r.points);
  const span = Math.max(...r.points) - min || 1;
  r.line.setAttribute('points', r.points.map((v, i) => `${i + HISTORY - r.points.length},${19 - ((v - min) / span) * 18}`).join(' '));
}

function onReading(subject, reading, source) {
  const [root, site, device, metric, extra] = subject.split('.');
  if (root !== 'telemetry' || metric === undefined || extra !== undefined) return;
  if (typeof reading !== 'object' || reading === null || typeof reading.value !== 'number') return;
  const r = rowFor(subject, site, device, metric);
  if (reading.ts <= r.lastTs) return; // not newer than what is shown (a stored one after live ones)
  r.lastTs = reading.ts;
  r.points.push(reading.value);
  if (r.points.length > HISTORY) r.points.shift();
  r.value.textContent = `${reading.value.toFixed(1)} ${reading.unit ?? ''}`;
  r.row.classList.remove('stale');
  draw(r);
  state.subjects[subject] = { value: reading.value, unit: reading.unit, ts: reading.ts, source };
  if (source === 'live') state.live++;
  else state.stored++;
  $('count').textContent = String(state.live);
  $('empty').hidden = true;
}

function fromBase64(s) {
  return Uint8Array.from(atob(s ?? ''), (c) => c.charCodeAt(0));
}

/** The newest stored reading of each subject (a direct read per subject; no consumer needed). */
async function loadStored(nc, cfg) {
  try {
    const jsm = jetstreamManager(nc);
    const info = await jsm.streams.info(cfg.stream, { subjects_filter: cfg.subjects });
    const subjects = Object.keys(info.state.subjects ?? {}).sort().slice(0, MAX_STORED_SUBJECTS);
    for (const subject of subjects) {
      const m = await jsm.streams.getMessage(cfg.stream, { last_by_subj: subject });
      onReading(subject, JSON.parse(decoder.decode(fromBase64(m.data))), 'stored');
    }
  } catch (err) {
    console.warn(`stored readings not loaded: ${err.message}`);
  }
}

async function watchStatus(nc, cfg) {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') {
      state.disconnects++;
      setStatus('disconnected');
    } else if (s.type === 'reconnecting') {
      setStatus('reconnecting');
    } else if (s.type === 'reconnect') {
      state.reconnects++;
      setStatus('connected');
      void loadStored(nc, cfg);
    }
  }
  setStatus('closed');
}

async function main() {
  const cfg = await (await fetch('/config.json')).json();
  const wsUrl = new URLSearchParams(location.search).get('ws') ?? cfg.wsUrl;
  $('server').textContent = wsUrl;
  $('subjects').textContent = cfg.subjects;
  const nc = await connect({
    servers: wsUrl,
    name: 'dashboard',
    waitOnFirstConnect: true, // the broker may start after the page
    maxReconnectAttempts: -1, // and may restart at any time
    reconnectTimeWaitMs: 500,
    maxReconnectTimeWaitMs: 3000,
    pingIntervalMs: 15_000, // notice a dead link behind a proxy within ~45 s
  });
  void watchStatus(nc, cfg);
  nc.subscribe(cfg.subjects, {
    callback: (m) => {
      let reading;
      try {
        reading = m.json();
      } catch {
        return; // not JSON: not a reading
      }
      onReading(m.subject, reading, 'live');
    },
  });
  setStatus('connected');
  await loadStored(nc, cfg);
  setInterval(() => {
    const now = Date.now();
    for (const r of rows.values()) r.row.classList.toggle('stale', now - r.lastTs > STALE_MS);
  }, 1000);
}

main().catch((err) => {
  setStatus('error');
  $('empty').textContent = `dashboard failed: ${err.message}`;
  console.error(err);
});
