// Axes, ticks and legends for the lab's charts, shared by every page. A chart asks for a
// frame (its plot area inside the canvas), draws its lines with frame.px / frame.py, and
// calls axes() and legend(). Text is 12 px or more, so it reads on a phone and a projector.

import { lab } from "./common.js";

export const FONT = "12px system-ui, sans-serif";
export const INK = "#1d2330", MUTED = "#5b6475", GRID = "#e4e7ee";

// The plot area of a canvas sized to its CSS box: margins for the tick labels and titles,
// and the maps from data (x in [x0, x1], y in [y0, y1]) to pixels.
export function frame(canvas, [x0, x1, y0, y1], margins) {
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  const m = Object.assign({ left: 52, right: 18, top: 8, bottom: 34 }, margins || {});
  const left = m.left, right = width - m.right, top = m.top, bottom = height - m.bottom;
  const spanX = x1 - x0 || 1, spanY = y1 - y0 || 1;
  context.clearRect(0, 0, width, height);
  return {
    context, width, height, left, right, top, bottom, box: [x0, x1, y0, y1],
    px: (x) => left + (x - x0) / spanX * (right - left),
    py: (y) => bottom - (y - y0) / spanY * (bottom - top),
  };
}

// Round tick values between lo and hi, about `count` of them (1, 2 or 5 times a power of 10).
export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((k) => k * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

// Whole powers of ten between 10^lo and 10^hi (lo, hi in log10 units), at most `count`.
export function powerTicks(lo, hi, count) {
  const first = Math.ceil(lo - 1e-9), last = Math.floor(hi + 1e-9);
  const every = Math.max(1, Math.ceil((last - first + 1) / Math.max(1, count)));
  const ticks = [];
  for (let p = first; p <= last; p += every) ticks.push(p);
  return ticks;
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// 10^p as a reader writes it: 0.01, 1, 100 near 1, else 10⁻⁵.
export function power(p) {
  if (p >= -3 && p <= 3) return lab.format(Math.pow(10, p), 3);
  return "10" + String(p).split("").map((c) => SUPERSCRIPT[c]).join("");
}

// Tick marks, grid lines, tick labels and the two axis titles. x and y are
// {title, ticks: [values], label: (value) => text}; a log axis passes powerTicks and power.
export function axes(f, x, y) {
  const c = f.context;
  c.save();
  c.font = FONT; c.lineWidth = 1;
  const xLabel = x.label || ((v) => lab.format(v, 3)), yLabel = y.label || ((v) => lab.format(v, 3));
  c.fillStyle = MUTED;
  for (const t of x.ticks) {
    const px = f.px(t);
    if (px < f.left - 0.5 || px > f.right + 0.5) continue;
    c.strokeStyle = GRID; c.beginPath(); c.moveTo(px, f.top); c.lineTo(px, f.bottom); c.stroke();
    c.textAlign = "center"; c.fillText(xLabel(t), px, f.bottom + 14);
  }
  for (const t of y.ticks) {
    const py = f.py(t);
    if (py < f.top - 0.5 || py > f.bottom + 0.5) continue;
    c.strokeStyle = GRID; c.beginPath(); c.moveTo(f.left, py); c.lineTo(f.right, py); c.stroke();
    c.textAlign = "right"; c.fillText(yLabel(t), f.left - 4, py + 4);
  }
  c.strokeStyle = MUTED;
  c.strokeRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
  c.fillStyle = INK; c.textAlign = "center";
  c.fillText(x.title, (f.left + f.right) / 2, f.height - 3);
  c.translate(12, (f.top + f.bottom) / 2); c.rotate(-Math.PI / 2);
  c.fillText(y.title, 0, 0);
  c.restore();
}

const ROW = 16, SWATCH = 18;

// Where each entry of a legend above the plot goes: rows of entries between x = left and
// x = right, wrapped as needed; and the height they take.
function layoutAbove(context, entries, left, right) {
  context.save(); context.font = FONT;
  let x = left, y = 0;
  const places = entries.map((entry) => {
    const width = SWATCH + 6 + context.measureText(entry.label).width + 14;
    if (x > left && x + width > right) { x = left; y += ROW; }
    const place = { x, y };
    x += width;
    return place;
  });
  context.restore();
  return { places, height: entries.length ? y + ROW + 4 : 0 };
}

// The top margin a chart needs for its legend above the plot (see legend(f, entries, "above")).
export function legendHeight(canvas, entries, margins) {
  const m = Object.assign({ left: 52, right: 18 }, margins || {});
  return layoutAbove(canvas.getContext("2d"), entries, m.left, canvas.clientWidth - m.right).height;
}

function swatch(c, entry, x, cy) {
  c.strokeStyle = entry.color; c.fillStyle = entry.color; c.lineWidth = 2;
  if (entry.kind === "box") {
    c.fillRect(x, cy - 5, SWATCH - 4, 10);
    c.strokeStyle = MUTED; c.lineWidth = 1; c.strokeRect(x, cy - 5, SWATCH - 4, 10);
  } else if (entry.kind === "dot") {
    c.beginPath(); c.arc(x + SWATCH / 2 - 2, cy, 4, 0, 2 * Math.PI); c.fill();
  } else {
    c.setLineDash(entry.dash || []);
    c.beginPath(); c.moveTo(x, cy); c.lineTo(x + SWATCH - 4, cy); c.stroke();
    c.setLineDash([]);
  }
}

// A legend: entries {label, color, dash: [on, off] or none, kind: "line" | "box" | "dot"},
// in rows above the plot ("above": the frame's top margin must hold legendHeight), or in a
// box in a corner of the plot area ("top right" by default, "bottom left", ...).
export function legend(f, entries, corner) {
  if (!entries.length) return;
  const c = f.context;
  if (corner === "above") {
    const { places, height } = layoutAbove(c, entries, f.left, f.right);
    c.save(); c.font = FONT;
    entries.forEach((entry, i) => {
      const x = places[i].x, cy = f.top - height + places[i].y + ROW / 2;
      swatch(c, entry, x, cy);
      c.fillStyle = INK; c.textAlign = "left"; c.fillText(entry.label, x + SWATCH + 2, cy + 4);
    });
    c.restore();
    return;
  }
  c.save();
  c.font = FONT;
  const row = ROW, swatch_ = SWATCH;
  const width = Math.max(...entries.map((e) => c.measureText(e.label).width)) + swatch_ + 14;
  const height = entries.length * row + 6;
  const where = corner || "top right";
  const x = where.includes("left") ? f.left + 6 : f.right - width - 6;
  const y = where.includes("bottom") ? f.bottom - height - 6 : f.top + 6;
  c.fillStyle = "rgba(255, 255, 255, 0.88)"; c.strokeStyle = GRID;
  c.fillRect(x, y, width, height); c.strokeRect(x, y, width, height);
  entries.forEach((entry, i) => {
    const cy = y + 3 + row * i + row / 2;
    swatch(c, entry, x + 5, cy);
    c.fillStyle = INK; c.textAlign = "left";
    c.fillText(entry.label, x + swatch_ + 8, cy + 4);
  });
  c.restore();
}
