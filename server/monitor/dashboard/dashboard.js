// sluice's dashboard: polls the monitoring endpoints of the server that served it (relative URLs,
// so it works behind a path prefix too) once a second and draws what it reads. Plain script, no
// build step and no dependencies.
'use strict';

const POLL_MS = 1000;
const HISTORY = 120; // points on the chart: two minutes at one poll a second
const history = []; // { t, inRate, outRate }
let previous = null; // the last /varz sample: { t, in_msgs, out_msgs }

const $ = (id) => document.getElementById(id);
const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fmtBytes = (n) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
};

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function onVarz(v) {
  $('server-name').textContent = v.server_name === v.server_id ? '' : v.server_name;
  $('version').textContent = `${v.sluice_version ? `sluice ${v.sluice_version}` : v.version}`;
  $('uptime').textContent = v.uptime;
  $('connections').textContent = fmt(v.connections);
  $('subscriptions').textContent = fmt(v.subscriptions);
  $('slow-consumers').textContent = fmt(v.slow_consumers);
  $('mem').textContent = fmtBytes(v.mem);
  const t = Date.parse(v.now);
  if (previous !== null && t > previous.t) {
    const dt = (t - previous.t) / 1000;
    const inRate = Math.max(0, (v.in_msgs - previous.in_msgs) / dt);
    const outRate = Math.max(0, (v.out_msgs - previous.out_msgs) / dt);
    $('in-rate').textContent = fmt(inRate);
    $('out-rate').textContent = fmt(outRate);
    history.push({ t, inRate, outRate });
    if (history.length > HISTORY) history.shift();
    drawChart();
  }
  previous = { t, in_msgs: v.in_msgs, out_msgs: v.out_msgs };
}

function drawChart() {
  const canvas = $('rates');
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  const pad = 36;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...history.map((p) => Math.max(p.inRate, p.outRate)));
  ctx.fillStyle = '#667';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(fmt(max), 2, 12);
  ctx.fillText('0', 2, h - 4);
  ctx.strokeStyle = '#eef';
  ctx.beginPath();
  ctx.moveTo(pad, h / 2);
  ctx.lineTo(w, h / 2);
  ctx.stroke();
  const x = (i) => pad + ((w - pad) * i) / Math.max(1, HISTORY - 1);
  const y = (r) => h - 4 - ((h - 16) * r) / max;
  for (const [key, color] of [['inRate', '#2b6cb0'], ['outRate', '#38a169']]) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((p, i) => (i === 0 ? ctx.moveTo(x(i), y(p[key])) : ctx.lineTo(x(i), y(p[key]))));
    ctx.stroke();
  }
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function onJsz(j) {
  const body = $('streams').querySelector('tbody');
  body.replaceChildren();
  if (j.disabled) {
    $('jetstream-note').textContent = 'JetStream is not enabled on this server.';
    return;
  }
  $('jetstream-note').textContent = `${fmt(j.streams)} streams, ${fmt(j.consumers)} consumers, ${fmt(j.messages)} messages`;
  const streams = (j.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
  for (const s of streams) {
    const tr = document.createElement('tr');
    tr.dataset.stream = s.name;
    tr.append(cell(s.name), cell(''), cell(fmt(s.state.messages)), cell(fmtBytes(s.state.bytes)), cell(''), cell(''), cell(''), cell(s.cluster?.leader ?? ''));
    body.append(tr);
    for (const c of s.consumer_detail ?? []) {
      const ctr = document.createElement('tr');
      ctr.dataset.stream = s.name;
      ctr.dataset.consumer = c.name;
      ctr.append(cell(''), cell(c.name), cell(''), cell(''), cell(fmt(c.num_pending)), cell(fmt(c.num_ack_pending)), cell(fmt(c.num_redelivered)), cell(c.cluster?.leader ?? ''));
      body.append(ctr);
    }
  }
  const meta = j.meta_cluster;
  if (meta) $('cluster-note').textContent = `cluster ${meta.name}: ${meta.cluster_size} JetStream servers, meta leader ${meta.leader ?? 'none'}`;
}

function onRoutez(r) {
  const body = $('routes').querySelector('tbody');
  body.replaceChildren();
  for (const route of r.routes) {
    const tr = document.createElement('tr');
    tr.append(cell(route.remote_name || route.remote_id), cell(route.rtt), cell(fmt(route.in_msgs)), cell(fmt(route.out_msgs)), cell(fmt(route.subscriptions)));
    body.append(tr);
  }
  $('routes').hidden = r.num_routes === 0;
  if (r.num_routes > 0 && $('cluster-note').textContent === 'not clustered') $('cluster-note').textContent = `${r.num_routes} routes`;
}

async function poll() {
  try {
    const [varz, jsz, routez] = await Promise.all([getJson('varz'), getJson('jsz?consumers=1'), getJson('routez')]);
    onVarz(varz);
    onJsz(jsz);
    onRoutez(routez);
    $('status').textContent = 'live';
    $('status').className = 'status ok';
  } catch (err) {
    $('status').textContent = String(err.message ?? err);
    $('status').className = 'status error';
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
