// A small plotting library for the live view: axes with round ticks (linear
// or logarithmic), zoom with the wheel, pan by dragging, double-click to see
// everything again, and a tooltip for the point under the mouse. What is
// drawn inside the axes is the caller's `render` function; the library only
// maps data to pixels.
'use strict';

const VIRIDIS = [[68, 1, 84], [71, 45, 123], [58, 82, 139], [44, 114, 142], [33, 145, 140],
                 [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** The viridis colour at t in [0, 1] as [r, g, b]; grey when t is not a number. */
function viridis(t) {
  if (!Number.isFinite(t)) return [150, 150, 150];
  const s = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(s), VIRIDIS.length - 2);
  const f = s - i;
  return VIRIDIS[i].map((a, k) => Math.round(a + f * (VIRIDIS[i + 1][k] - a)));
}

/** Round tick positions (1, 2 or 5 times a power of ten) covering [lo, hi]. */
function linearTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(count, 1);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

/** Ticks of a log axis whose range is [lo, hi] in powers of ten: the
 *  powers themselves, or also 2 and 5 times them over less than two decades. */
function logTicks(lo, hi, count) {
  const out = [];
  const multiples = hi - lo < 2 ? [1, 2, 5] : [1];
  for (let p = Math.floor(lo); p <= Math.ceil(hi); ++p) {
    for (const m of multiples) {
      const at = p + Math.log10(m);
      if (at >= lo && at <= hi) out.push({ at, text: formatNumber(m * Math.pow(10, p)) });
    }
  }
  const step = Math.max(1, Math.ceil(out.length / Math.max(count, 1)));
  return out.filter((_, i) => i % step === 0);
}

/** A number short enough for an axis or a tooltip. */
function formatNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

class Plot {
  /**
   * @param {HTMLElement} container where the canvas goes
   * @param {object} options xlabel, ylabel, xlog, ylog, equal (same scale on both axes)
   */
  constructor(container, options = {}) {
    this.options = options;
    this.canvas = document.createElement('canvas');
    container.appendChild(this.canvas);
    this.ctx = this.canvas.getContext('2d');
    this.margin = { left: 62, right: options.colourBar ? 70 : 14, top: 10, bottom: 40 };
    this.view = null;  // the user's zoom, in transformed units; null: everything
    this.render = () => {};
    this.extent = () => null;
    this.hover = () => null;
    this.tooltip = document.getElementById('tooltip');
    this.listen();
    new ResizeObserver(() => this.redraw()).observe(container);
  }

  /** Data value to the plotted coordinate (log10 on log axes). */
  tx(v) { return this.options.xlog ? Math.log10(v) : v; }
  ty(v) { return this.options.ylog ? Math.log10(v) : v; }

  /** The range shown, in plotted coordinates. */
  range() {
    if (this.view) return this.view;
    const e = this.extent();
    let r = e ? { x0: this.tx(e.x0), x1: this.tx(e.x1), y0: this.ty(e.y0), y1: this.ty(e.y1) }
              : null;
    if (!r || ![r.x0, r.x1, r.y0, r.y1].every(Number.isFinite)) r = { x0: 0, x1: 1, y0: 0, y1: 1 };
    const pad = (lo, hi, f) => {
      if (hi - lo <= 0) return [lo - 0.5 - Math.abs(lo) * 0.05, hi + 0.5 + Math.abs(hi) * 0.05];
      return [lo - (hi - lo) * f, hi + (hi - lo) * f];
    };
    [r.x0, r.x1] = pad(r.x0, r.x1, this.options.tightX ? 0 : 0.03);
    [r.y0, r.y1] = pad(r.y0, r.y1, 0.05);
    return r;
  }

  /** The mapping of the current drawing: data to pixels and back. */
  frame() {
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight, m = this.margin;
    const r = this.range();
    let left = m.left, top = m.top, width = w - m.left - m.right, height = h - m.top - m.bottom;
    if (this.options.equal && !this.view) {
      const scale = Math.min(width / (r.x1 - r.x0), height / (r.y1 - r.y0));
      left += (width - scale * (r.x1 - r.x0)) / 2;
      top += (height - scale * (r.y1 - r.y0)) / 2;
      width = scale * (r.x1 - r.x0);
      height = scale * (r.y1 - r.y0);
    }
    const f = { left, top, width, height, r };
    f.px = (x) => left + ((this.tx(x) - r.x0) / (r.x1 - r.x0)) * width;
    f.py = (y) => top + height - ((this.ty(y) - r.y0) / (r.y1 - r.y0)) * height;
    f.fromPx = (px, py) => [r.x0 + ((px - left) / width) * (r.x1 - r.x0),
                            r.y0 + ((top + height - py) / height) * (r.y1 - r.y0)];
    return f;
  }

  redraw() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const f = this.frame();
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.left, f.top, f.width, f.height);
    ctx.clip();
    this.render(ctx, f);
    ctx.restore();
    this.drawAxes(ctx, f);
  }

  drawAxes(ctx, f) {
    const o = this.options;
    ctx.strokeStyle = '#444';
    ctx.fillStyle = '#333';
    ctx.lineWidth = 1;
    ctx.strokeRect(f.left + 0.5, f.top + 0.5, f.width, f.height);
    ctx.font = '11px sans-serif';
    const ticks = (lo, hi, log, n) => (log ? logTicks(lo, hi, n)
      : linearTicks(lo, hi, n).map((v) => ({ at: v, text: formatNumber(v) })));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of ticks(f.r.x0, f.r.x1, o.xlog, Math.max(2, f.width / 90))) {
      const x = f.left + ((t.at - f.r.x0) / (f.r.x1 - f.r.x0)) * f.width;
      ctx.beginPath();
      ctx.moveTo(x, f.top + f.height);
      ctx.lineTo(x, f.top + f.height + 4);
      ctx.stroke();
      ctx.fillText(t.text, x, f.top + f.height + 6);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ticks(f.r.y0, f.r.y1, o.ylog, Math.max(2, f.height / 50))) {
      const y = f.top + f.height - ((t.at - f.r.y0) / (f.r.y1 - f.r.y0)) * f.height;
      ctx.beginPath();
      ctx.moveTo(f.left - 4, y);
      ctx.lineTo(f.left, y);
      ctx.stroke();
      ctx.fillText(t.text, f.left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    if (o.xlabel) ctx.fillText(o.xlabel, f.left + f.width / 2, this.canvas.clientHeight - 2);
    if (o.ylabel) {
      ctx.save();
      ctx.translate(12, f.top + f.height / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(o.ylabel, 0, 0);
      ctx.restore();
    }
    if (o.colourBar && this.colours) this.drawColourBar(ctx, f);
  }

  /** The scale of a colour map, set by the caller: { lo, hi, label }. */
  drawColourBar(ctx, f) {
    const { lo, hi, label } = this.colours;
    const x = f.left + f.width + 14, w = 14;
    for (let i = 0; i < f.height; ++i) {
      const [r, g, b] = viridis(1 - i / f.height);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(x, f.top + i, w, 1.5);
    }
    ctx.fillStyle = '#333';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    if (Number.isFinite(lo) && Number.isFinite(hi)) {
      for (const v of linearTicks(lo, hi, 5)) {
        ctx.fillText(formatNumber(v), x + w + 3, f.top + f.height - ((v - lo) / (hi - lo || 1)) * f.height);
      }
    }
    if (label) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(label, x + w / 2, f.top + 9);
    }
  }

  listen() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const f = this.frame();
      const [x, y] = f.fromPx(ev.offsetX, ev.offsetY);
      const k = ev.deltaY < 0 ? 1 / 1.25 : 1.25;
      const r = f.r;
      this.view = { x0: x + (r.x0 - x) * k, x1: x + (r.x1 - x) * k,
                    y0: y + (r.y0 - y) * k, y1: y + (r.y1 - y) * k };
      this.redraw();
    }, { passive: false });
    c.addEventListener('mousedown', (ev) => { drag = { x: ev.offsetX, y: ev.offsetY, r: this.frame().r }; });
    window.addEventListener('mouseup', () => { drag = null; });
    c.addEventListener('mousemove', (ev) => {
      if (drag) {
        const f = this.frame();
        const dx = ((ev.offsetX - drag.x) / f.width) * (drag.r.x1 - drag.r.x0);
        const dy = ((ev.offsetY - drag.y) / f.height) * (drag.r.y1 - drag.r.y0);
        this.view = { x0: drag.r.x0 - dx, x1: drag.r.x1 - dx, y0: drag.r.y0 + dy, y1: drag.r.y1 + dy };
        this.redraw();
        return;
      }
      this.showTooltip(ev);
    });
    c.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
    c.addEventListener('dblclick', () => { this.view = null; this.redraw(); });
  }

  showTooltip(ev) {
    const hit = this.hover(ev.offsetX, ev.offsetY, this.frame());
    if (!hit) {
      this.tooltip.hidden = true;
      return;
    }
    const box = this.canvas.getBoundingClientRect();
    this.tooltip.textContent = hit.text;
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${box.left + window.scrollX + hit.px + 12}px`;
    this.tooltip.style.top = `${box.top + window.scrollY + hit.py + 12}px`;
  }
}

/** The nearest of `points` ([x, y, ...]) to a pixel, within `radius` pixels. */
function nearest(points, f, px, py, radius = 12, xi = 0, yi = 1) {
  let best = null, bestD = radius * radius;
  for (const p of points) {
    const dx = f.px(p[xi]) - px, dy = f.py(p[yi]) - py;
    const d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = p;
    }
  }
  return best;
}
