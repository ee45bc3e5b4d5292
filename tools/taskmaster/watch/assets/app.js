// The live view: receives the run's state from /api/events (a snapshot,
// then what is new), keeps it, and draws it. See docs/live-view.md.
'use strict';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';

// Errors of the page itself are shown on it (and counted for the tests).
function reportError(text) {
  const box = $('errors');
  box.hidden = false;
  box.textContent += `${text}\n`;
  document.body.dataset.errors = String(Number(document.body.dataset.errors || 0) + 1);
}
window.addEventListener('error', (e) => reportError(`error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => reportError(`error: ${e.reason}`));

const state = { run: null, status: null, points: [], failures: [], series: [], generation: 0,
                sampled: false, caughtUp: 0 };
const view = { component: 0, xDim: 0, yDim: 1, at: null, mesh: null, meshAsked: 0,
               meshBusy: false, meshStale: true };

// ---------------------------------------------------------------- the data

function applySnapshot(s) {
  state.generation = s.generation;
  state.run = s.run;
  state.status = s.status;
  state.points = s.points;
  state.sampled = Boolean(s.points_sampled);
  state.caughtUp = 0;
  $('fn-sample').hidden = !state.sampled;
  state.failures = s.failures;
  state.series = s.series;
  view.mesh = null;
  view.meshStale = true;
  view.at = null;
  setUpControls();
  schedule();
}

function applyUpdate(u) {
  state.run = u.run;
  state.status = u.status;
  for (const p of u.points) state.points.push(p);
  if (u.points_sampled && !state.sampled) {
    // A run faster than the server sends points to each watcher: a sample
    // until the end, then all of them, if the server is still there.
    state.sampled = true;
    $('fn-sample').hidden = false;
  }
  if (state.sampled && u.status.phase === 'ended') {
    state.sampled = false;
    const generation = state.generation;
    fetch('api/snapshot')
      .then((r) => (r.ok ? r.json() : null))
      .then((s) => { if (s && generation === state.generation) applySnapshot(s); })
      .catch(() => {});  // the run's own server may have stopped with it: keep the sample
  } else if (state.sampled) {
    // Once a second of updates has carried every new point, the run is slow
    // enough to be sent whole: the stream starts again with all of it.
    state.caughtUp = u.points_all ? state.caughtUp + 1 : 0;
    if (state.caughtUp >= 4) {
      state.caughtUp = 0;
      connect(true);
    }
  }
  for (const f of u.failures) state.failures.push(f);
  if (u.series_reset) state.series = u.series;
  else for (const s of u.series) state.series.push(s);
  if (u.points.length > 0) view.meshStale = true;
  schedule();
}

let events = null;

function connect(full = false) {
  if (events) events.close();
  events = new EventSource(full ? 'api/events?full=1' : 'api/events');
  events.addEventListener('snapshot', (e) => applySnapshot(JSON.parse(e.data)));
  events.addEventListener('update', (e) => applyUpdate(JSON.parse(e.data)));
  events.addEventListener('bye', () => {
    events.close();
    $('connection').textContent = 'the server stopped';
    $('connection').className = 'bad';
  });
  events.onopen = () => { $('connection').textContent = 'live'; $('connection').className = 'ok'; };
  // The browser reconnects by itself (and receives a snapshot again).
  events.onerror = () => { $('connection').textContent = 'reconnecting'; $('connection').className = 'bad'; };
}

// ------------------------------------------------------------- the figures

const X = 0, Y = 1;  // indices into a point row are x components, then y components
const plots = {};

function kind() {
  const run = state.run, s = state.status;
  if (!run || !s) return 'none';
  if (run.learner === 'average') return 'average';
  if (run.learner === 'average1d') return 'average1d';
  if (run.learner === '2d') return 'mesh2d';
  if (run.learner === 'nd') return 'slice';
  if (s.x_components === 1) return 'line';
  if (s.x_components >= 2) return 'scatter';
  return 'none';
}

function xNames() {
  const n = state.status ? state.status.x_components : 0;
  const names = state.run && state.run.input_names;
  return Array.from({ length: n }, (_, i) => (names && names[i]) || (n === 1 ? 'x' : `x${i}`));
}

function valueRange(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 1 };
}

function extentOf(points, xi, yi) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of points) {
    const x = p[xi], y = p[yi];
    if (x !== null && Number.isFinite(x)) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); }
    if (y !== null && Number.isFinite(y)) { y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  return x0 <= x1 ? { x0, x1, y0: y0 <= y1 ? y0 : 0, y1: y0 <= y1 ? y1 : 1 } : null;
}

function boundsExtent(xi, yi, fallback) {
  const b = state.run && state.run.bounds;
  if (b && b[xi] && b[yi]) return { x0: b[xi][0], x1: b[xi][1], y0: b[yi][0], y1: b[yi][1] };
  return fallback;
}

function pointText(p) {
  const nx = state.status.x_components;
  const xs = p.slice(0, nx).map(formatNumber).join(', ');
  const ys = p.slice(nx).map(formatNumber).join(', ');
  return `x = ${nx > 1 ? `(${xs})` : xs}\ny = ${p.length - nx > 1 ? `(${ys})` : ys}`;
}

function setUpFunctionPlot() {
  const k = kind();
  const container = $('fn-plot');
  container.replaceChildren();
  const names = xNames();
  const twoD = ['mesh2d', 'slice', 'scatter'].includes(k);
  const ny = state.status ? state.status.y_components : 1;
  const p = new Plot(container, {
    xlabel: k === 'average' ? 'seed' : k === 'average1d' ? 'x' : names[twoD ? view.xDim : 0] || 'x',
    ylabel: twoD ? names[view.yDim] : ny > 1 ? 'y' : 'y',
    equal: twoD && k !== 'scatter', colourBar: twoD, tightX: k === 'line',
  });
  plots.fn = p;
  const nx = () => state.status.x_components;
  if (k === 'line' || k === 'average' || k === 'average1d') {
    const xi = k === 'average1d' ? 1 : 0;
    p.extent = () => {
      const e = extentOf(state.points, xi, nx() + view.component);
      const ys = state.points.flatMap((q) => q.slice(nx()));
      const r = valueRange(ys);
      const b = boundsExtent(0, 0, null);
      return e && { x0: b && k === 'line' ? b.x0 : e.x0, x1: b && k === 'line' ? b.x1 : e.x1, y0: r.lo, y1: r.hi };
    };
    p.render = (ctx, f) => drawLine(ctx, f, k, xi);
    p.hover = (px, py, f) => {
      let best = null;
      for (let c = 0; c < state.points[0]?.length - nx(); ++c) {
        const q = nearest(state.points, f, px, py, 12, xi, nx() + c);
        if (q) best = q;
      }
      return best && { px: f.px(best[xi]), py: f.py(best[nx()]), text: pointText(best) };
    };
  } else if (twoD) {
    p.extent = () => boundsExtent(view.xDim, view.yDim, extentOf(state.points, view.xDim, view.yDim));
    p.render = (ctx, f) => drawMap(ctx, f, k);
    p.hover = (px, py, f) => {
      const q = nearest(state.points, f, px, py, 10, view.xDim, view.yDim);
      return q && { px: f.px(q[view.xDim]), py: f.py(q[view.yDim]), text: pointText(q) };
    };
  }
  $('fn-note').textContent = {
    line: '(points and the line through them; wheel: zoom, drag: pan, double-click: all)',
    average: '(samples against their seed)',
    average1d: '(samples, and their mean at each x)',
    mesh2d: '(the triangulation coloured by value, with the points)',
    slice: '(a slice through the domain; the points projected onto it)',
    scatter: '(the points coloured by value)',
    none: '',
  }[k];
}

function drawLine(ctx, f, k, xi) {
  const nx = state.status.x_components;
  const ncomp = state.points.length ? state.points[0].length - nx : 0;
  const sorted = state.points.slice().sort((a, b) => a[xi] - b[xi]);
  for (let c = 0; c < ncomp; ++c) {
    ctx.strokeStyle = PALETTE[c % PALETTE.length];
    ctx.fillStyle = PALETTE[c % PALETTE.length];
    if (k === 'line' || k === 'average1d') {
      // The line through the points (average1d: through the means at each x).
      const line = k === 'line' ? sorted.map((p) => [p[xi], p[nx + c]]) : means(sorted, xi, nx + c);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      for (const [x, y] of line) {
        if (y === null || !Number.isFinite(y)) { pen = false; continue; }
        if (pen) ctx.lineTo(f.px(x), f.py(y)); else ctx.moveTo(f.px(x), f.py(y));
        pen = true;
      }
      ctx.stroke();
    }
    const r = sorted.length > 2000 ? 1.5 : 2.5;
    for (const p of sorted) {
      const y = p[nx + c];
      if (y === null || !Number.isFinite(y)) continue;
      ctx.beginPath();
      ctx.arc(f.px(p[xi]), f.py(y), r, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function means(sorted, xi, yi) {
  const out = [];
  for (let i = 0; i < sorted.length;) {
    let j = i, sum = 0, n = 0;
    for (; j < sorted.length && sorted[j][xi] === sorted[i][xi]; ++j) {
      const y = sorted[j][yi];
      if (y !== null && Number.isFinite(y)) { sum += y; ++n; }
    }
    out.push([sorted[i][xi], n ? sum / n : null]);
    i = j;
  }
  return out;
}

function drawMap(ctx, f, k) {
  const nx = state.status.x_components;
  const vi = nx + view.component;
  const mesh = view.mesh;
  let range;
  if (k === 'mesh2d' && mesh && mesh.kind === 'triangles') {
    const pts = mesh.points;
    const values = [];
    for (let i = 2; i < pts.length; i += 3) values.push(pts[i]);
    range = valueRange(values);
    const t = (v) => (v - range.lo) / (range.hi - range.lo || 1);
    const tri = mesh.triangles;
    for (let i = 0; i < tri.length; i += 3) {
      const a = tri[i] * 3, b = tri[i + 1] * 3, c = tri[i + 2] * 3;
      const vs = [pts[a + 2], pts[b + 2], pts[c + 2]].filter((v) => v !== null);
      const [r, g, bl] = viridis(vs.length ? t(vs.reduce((s, v) => s + v, 0) / vs.length) : NaN);
      ctx.fillStyle = ctx.strokeStyle = `rgb(${r},${g},${bl})`;
      ctx.beginPath();
      ctx.moveTo(f.px(pts[a]), f.py(pts[a + 1]));
      ctx.lineTo(f.px(pts[b]), f.py(pts[b + 1]));
      ctx.lineTo(f.px(pts[c]), f.py(pts[c + 1]));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();  // no hairline gaps between neighbours
    }
  } else if (k === 'slice' && mesh && mesh.kind === 'grid') {
    range = valueRange(mesh.values);
    const image = new ImageData(mesh.nx, mesh.ny);
    for (let j = 0; j < mesh.ny; ++j) {
      for (let i = 0; i < mesh.nx; ++i) {
        const v = mesh.values[j * mesh.nx + i];
        const [r, g, b] = v === null ? [235, 235, 235] : viridis((v - range.lo) / (range.hi - range.lo || 1));
        const o = ((mesh.ny - 1 - j) * mesh.nx + i) * 4;  // row 0 is the bottom
        image.data.set([r, g, b, 255], o);
      }
    }
    const off = document.createElement('canvas');
    off.width = mesh.nx;
    off.height = mesh.ny;
    off.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    const x0 = f.px(mesh.x[0]), x1 = f.px(mesh.x[1]), y0 = f.py(mesh.y[1]), y1 = f.py(mesh.y[0]);
    ctx.drawImage(off, x0, y0, x1 - x0, y1 - y0);
  } else {
    range = valueRange(state.points.map((p) => p[vi]));
  }
  // The points: coloured by value where there is no map beneath them.
  const coloured = !mesh || mesh.kind === 'none';
  const r = state.points.length > 3000 ? 1.2 : 2;
  for (const p of state.points) {
    if (coloured) {
      const [cr, cg, cb] = viridis((p[vi] - range.lo) / (range.hi - range.lo || 1));
      ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
    } else {
      ctx.fillStyle = 'rgba(255,255,255,0.6)';
    }
    ctx.beginPath();
    ctx.arc(f.px(p[view.xDim]), f.py(p[view.yDim]), coloured ? r + 1 : r, 0, 2 * Math.PI);
    ctx.fill();
  }
  const ny = state.status.y_components;
  plots.fn.colours = { lo: range.lo, hi: range.hi, label: ny > 1 ? `y${view.component}` : 'y' };
}

// The 2D triangulation and the ND slice come from the server's learner: asked
// again when points came, at most once a second, never twice at once.
function refreshMesh() {
  const k = kind();
  if ((k !== 'mesh2d' && k !== 'slice') || !view.meshStale || view.meshBusy) return;
  if (performance.now() - view.meshAsked < 1000) { setTimeout(refreshMesh, 250); return; }
  view.meshBusy = true;
  view.meshStale = false;
  view.meshAsked = performance.now();
  const at = view.at ? `&at=${view.at.join(',')}` : '';
  const generation = state.generation;
  fetch(`api/mesh?x=${view.xDim}&y=${view.yDim}&c=${view.component}${at}`)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`mesh: HTTP ${r.status}`))))
    .then((m) => { if (generation === state.generation) { view.mesh = m; schedule(); } })
    .catch((e) => reportError(String(e)))
    .finally(() => { view.meshBusy = false; if (view.meshStale) setTimeout(refreshMesh, 250); });
}

function setUpControls() {
  const box = $('fn-controls');
  box.replaceChildren();
  const k = kind();
  const names = xNames();
  const ny = state.status ? state.status.y_components : 0;
  const select = (label, options, value, onChange) => {
    const l = document.createElement('label');
    l.textContent = `${label} `;
    const s = document.createElement('select');
    options.forEach((o, i) => s.add(new Option(o, String(i), false, i === value)));
    s.addEventListener('change', () => onChange(Number(s.value)));
    l.appendChild(s);
    box.appendChild(l);
  };
  const changed = () => { view.mesh = null; view.meshStale = true; setUpFunctionPlot(); schedule(); };
  if (ny > 1) select('output', Array.from({ length: ny }, (_, i) => `y${i}`), view.component, (v) => { view.component = v; changed(); });
  if (k === 'slice' || (k === 'scatter' && names.length > 2)) {
    select('horizontal', names, view.xDim, (v) => { view.xDim = v; changed(); setUpControls(); });
    select('vertical', names, view.yDim, (v) => { view.yDim = v; changed(); setUpControls(); });
  }
  if (k === 'slice') {
    // The position of the slice along every other input.
    const bounds = state.run.bounds;
    if (!view.at) view.at = bounds.map((b) => (b[0] + b[1]) / 2);
    bounds.forEach((b, d) => {
      if (d === view.xDim || d === view.yDim) return;
      const l = document.createElement('label');
      l.textContent = `${names[d]} = `;
      const out = document.createElement('output');
      out.textContent = formatNumber(view.at[d]);
      const r = document.createElement('input');
      Object.assign(r, { type: 'range', min: b[0], max: b[1], step: (b[1] - b[0]) / 100, value: view.at[d] });
      r.addEventListener('input', () => {
        view.at[d] = Number(r.value);
        out.textContent = formatNumber(view.at[d]);
        view.meshStale = true;
        refreshMesh();
      });
      l.append(r, out);
      box.appendChild(l);
    });
  }
  setUpFunctionPlot();
}

function setUpProgressPlots() {
  const loss = new Plot($('loss-plot'), { xlabel: 'points', ylabel: 'loss', ylog: true });
  loss.extent = () => extentOf(lossPoints(), 0, 1);
  loss.render = (ctx, f) => drawSeries(ctx, f, lossPoints(), PALETTE[0], false);
  loss.hover = (px, py, f) => {
    const q = nearest(lossPoints(), f, px, py);
    return q && { px: f.px(q[0]), py: f.py(q[1]), text: `${q[0]} points\nloss ${formatNumber(q[1])}` };
  };
  plots.loss = loss;
  const rate = new Plot($('rate-plot'), { xlabel: 'seconds', ylabel: 'points/s' });
  rate.extent = () => { const e = extentOf(ratePoints(), 0, 1); return e && { ...e, y0: 0 }; };
  rate.render = (ctx, f) => drawSeries(ctx, f, ratePoints(), PALETTE[2], false);
  rate.hover = (px, py, f) => {
    const q = nearest(ratePoints(), f, px, py);
    return q && { px: f.px(q[0]), py: f.py(q[1]), text: `${formatNumber(q[0])} s\n${formatNumber(q[1])} points/s` };
  };
  plots.rate = rate;
  const busy = new Plot($('busy-plot'), { xlabel: 'seconds', ylabel: 'workers' });
  busy.extent = () => {
    const e = extentOf(state.series, 0, 3);
    return e && { ...e, y0: 0, y1: Math.max(e.y1, ...state.series.map((s) => s[4])) };
  };
  busy.render = (ctx, f) => {
    drawSeries(ctx, f, state.series.map((s) => [s[0], s[4]]), '#999', true, [4, 3]);
    drawSeries(ctx, f, state.series.map((s) => [s[0], s[3]]), PALETTE[1], true);
  };
  busy.hover = (px, py, f) => {
    const q = nearest(state.series, f, px, py, 12, 0, 3);
    return q && { px: f.px(q[0]), py: f.py(q[3]), text: `${formatNumber(q[0])} s\n${q[3]} of ${q[4]} busy` };
  };
  plots.busy = busy;
}

function lossPoints() {
  const out = state.series.filter((s) => s[5] !== null && s[5] > 0).map((s) => [s[1], s[5]]);
  const s = state.status;
  if (s && s.loss > 0 && (!out.length || out[out.length - 1][0] !== s.told)) out.push([s.told, s.loss]);
  return out;
}

// Points per second, over windows of a twentieth of the run (at least a second).
function ratePoints() {
  const series = state.series;
  if (series.length < 2) return [];
  const window = Math.max(1, series[series.length - 1][0] / 20);
  const out = [];
  let j = 0;
  for (let i = 1; i < series.length; ++i) {
    while (series[i][0] - series[j][0] > window && j < i - 1) ++j;
    const dt = series[i][0] - series[j][0];
    if (dt > 0) out.push([series[i][0], (series[i][1] + series[i][2] - series[j][1] - series[j][2]) / dt]);
  }
  return out;
}

function drawSeries(ctx, f, points, colour, steps, dash = []) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.setLineDash(dash);
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    if (i === 0) ctx.moveTo(f.px(x), f.py(y));
    else {
      if (steps) ctx.lineTo(f.px(x), f.py(points[i - 1][1]));
      ctx.lineTo(f.px(x), f.py(y));
    }
  });
  ctx.stroke();
  ctx.setLineDash([]);
}

// -------------------------------------------------------------- the panels

function recentRate() {
  const r = ratePoints();
  return r.length ? r[r.length - 1][1] : null;
}

// The time left toward the goal that will be met first: points at the
// recent pace; a loss by extrapolating log(loss) against log(points) over
// the second half of the run so far; a duration as it is.
function timeLeft() {
  const run = state.run, s = state.status;
  if (!run || !s || !run.goals || s.phase !== 'running') return null;
  const rate = recentRate();
  let left = null;
  const take = (t) => { if (t !== null && Number.isFinite(t) && t >= 0) left = left === null ? t : Math.min(left, t); };
  for (const g of run.goals) {
    if (g.kind === 'npoints' && rate > 0) take((g.value - s.asked) / rate);
    if (g.kind === 'duration') take(g.value - s.elapsed);
    if (g.kind === 'loss' && rate > 0) {
      const pts = lossPoints().filter((p) => p[0] > 0);
      const tail = pts.slice(Math.floor(pts.length / 2));
      if (tail.length >= 3) {
        const xs = tail.map((p) => Math.log(p[0])), ys = tail.map((p) => Math.log(p[1]));
        const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
        let sxy = 0, sxx = 0;
        xs.forEach((x, i) => { sxy += (x - mx) * (ys[i] - my); sxx += (x - mx) ** 2; });
        const slope = sxx > 0 ? sxy / sxx : 0;
        if (slope < 0) take((Math.exp(mx + (Math.log(g.value) - my) / slope) - s.told) / rate);
      }
    }
  }
  return left;
}

function formatSeconds(s) {
  if (s === null || !Number.isFinite(s) || s < 0) return '–';
  if (s < 60) return `${s.toFixed(1)} s`;
  const w = Math.floor(s);
  if (s < 3600) return `${Math.floor(w / 60)} min ${String(w % 60).padStart(2, '0')} s`;
  return `${Math.floor(w / 3600)} h ${String(Math.floor((w % 3600) / 60)).padStart(2, '0')} min`;
}

function updatePanels() {
  const s = state.status, run = state.run;
  $('history').textContent = run ? run.history : '';
  if (!s) return;
  $('phase').textContent = !s.found ? 'waiting for the history file'
    : s.phase === 'ended' ? `ended: ${s.end_reason}` : s.phase;
  $('phase').className = `phase ${s.phase}`;
  $('npoints').textContent = String(s.told);
  $('loss').textContent = s.loss === null ? '–' : formatNumber(s.loss);
  const rate = recentRate();
  $('rate').textContent = rate === null ? '–' : formatNumber(rate);
  $('busy').textContent = `${s.in_flight} / ${s.capacity}`;
  $('nfailed').textContent = String(s.failed) + (s.retried ? ` (+${s.retried} retried)` : '');
  $('elapsed').textContent = formatSeconds(s.elapsed);
  $('eta').textContent = s.phase === 'ended' ? 'done' : formatSeconds(timeLeft());
  $('goal').textContent = run && run.goals ? run.goals.map((g) => g.text).join(' or ') : '–';
  $('stop').hidden = !(controls.includes('stop') && token && s.phase === 'running');
  $('worker-buttons').hidden = !(controls.includes('workers') && token && s.phase === 'running');

  // The failures: grouped by reason, then the latest one by one.
  const reasons = $('reasons');
  reasons.replaceChildren(...Object.entries(s.reasons).map(([why, n]) => {
    const li = document.createElement('li');
    li.textContent = `${n} × ${why}`;
    return li;
  }));
  $('no-failures').hidden = state.failures.length > 0;
  const body = $('failures').tBodies[0];
  const rows = state.failures.slice(-50).reverse().map((f) => {
    const tr = document.createElement('tr');
    for (const v of [f.id, JSON.stringify(f.x), f.retry ? 'retried' : 'failed', f.worker, f.error]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.appendChild(td);
    }
    return tr;
  });
  body.replaceChildren(...rows);
  $('warnings').textContent = s.warnings.length ? `Warnings: ${s.warnings.join('; ')}` : '';

  if (run) {
    const fields = run.tool ? [
      ['learner', `${run.learner}${run.bounds && run.bounds.length ? ` on ${run.bounds.map((b) => `[${b[0]}, ${b[1]}]`).join(' × ')}` : ''}, loss ${run.loss}`],
      ['goal', (run.goals || []).map((g) => g.text).join(' or ')],
      ['program', run.program],
      ['how', `${run.mode}, master ${run.master}, ${run.workers} workers`],
      ['retries', `${run.retries}${run.timeout ? `, timeout ${run.timeout} s` : ''}`],
      ['seed', String(run.seed)],
      ['started', run.started + (run.resumed ? `, resumed ${run.resumed}` : '')],
      ['history', run.history],
    ] : [
      ['learner', 'a run of the library (no taskmaster configuration in its header)'],
      ['metadata', JSON.stringify(run.meta)],
      ['seed', String(run.seed)],
      ['started', run.started],
      ['history', run.history],
    ];
    $('run').replaceChildren(...fields.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }));
  }
}

// Drawing happens once per animation frame however many messages came.
let pending = false;
let drawnKind = null;
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    const k = kind();
    if (k !== drawnKind) { drawnKind = k; setUpControls(); }
    updatePanels();
    for (const p of Object.values(plots)) p.redraw();
    refreshMesh();
    document.body.dataset.draws = String(Number(document.body.dataset.draws || 0) + 1);
  });
}

let controls = [];
$('stop').addEventListener('click', () => {
  if (!confirm('Stop the run? It stops asking for points and finishes those in flight.')) return;
  fetch('api/stop', { method: 'POST', headers: { 'X-Taskmaster-Token': token } })
    .then((r) => r.json())
    .then((j) => { $('stop').textContent = j.stopping ? 'Stopping…' : j.error; })
    .catch((e) => reportError(String(e)));
});
// The capacity the server answers shows once the run records it (within a second).
function changeWorkers(change) {
  fetch('api/workers', {
    method: 'POST',
    headers: { 'X-Taskmaster-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ change }),
  })
    .then((r) => r.json())
    .then((j) => { if (j.error) reportError(`workers: ${j.error}`); })
    .catch((e) => reportError(String(e)));
}
$('more-workers').addEventListener('click', () => changeWorkers(1));
$('fewer-workers').addEventListener('click', () => changeWorkers(-1));
fetch('api/server').then((r) => r.json()).then((j) => { controls = j.controls; schedule(); })
  .catch((e) => reportError(String(e)));
setUpProgressPlots();
connect();
