// /playground's drawing: heat maps, the network, charts, the loss surface. Every number
// comes from the server's state; these functions map numbers to pixels. Canvas text is
// 12 px or more and is drawn last, over the units, never under one.

import { $, lab } from "../common.js";
import { describe } from "../access.js";
import {
  FONT, INK, MUTED, axes, frame, legend, legendHeight, niceTicks, power, powerTicks,
} from "../chart.js";

// one colour per class (a notebook's own data may have any number of classes; they repeat
// after ten)
const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const POSITIVE = "#0877bd", NEGATIVE = "#f59322";
const PALETTE = ["#2f6fdf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#334155"];
// What the page's modules share (they import it): the drawn history, hit targets, the
// selection, and the drawing functions below.
export const pg = {
  history: [],       // [step, epoch, loss_train, loss_test, acc_test, norm_1..]
  edges: [],         // drawn edges for hit tests: {layer, row, col, x0, y0, x1, y1, value}
  nodes: [],         // drawn units (not inputs) for hit tests: their bias
  units: [],         // every drawn unit, inputs included: {layer (0: inputs), row, x, y, size}
  labels: [],        // text drawn on the network: {text, x, y, width, height}
  selected: null,    // the weight (edge) or bias (unit) being edited or explained
  recent: [],        // the last two weights clicked, for a slice of the loss surface
  batchModes: null,  // the last side-by-side batch-mode runs
  classroom: { hide: [], lock: null },
};

pg.bytesOf = function (encoded) {
  const text = atob(encoded);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
};

// A diverging colour for t in [0, 1]: orange (0), white (½), blue (1).
pg.diverging = function (t) {
  const [low, high] = [CLASS_RGB[0], CLASS_RGB[1]];
  const s = Math.abs(t - 0.5) * 2, end = t < 0.5 ? low : high;
  return [255 + (end[0] - 255) * s, 255 + (end[1] - 255) * s, 255 + (end[2] - 255) * s];
};

// The output heat map as an image of size × size cells (row 0 at the top).
pg.outputImage = function (boundary) {
  const size = boundary.size, maps = boundary.maps.map(pg.bytesOf);
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    let rgb;
    if (maps.length >= 3) {
      rgb = [0, 0, 0];
      for (let k = 0; k < maps.length; k++) {
        const p = maps[k][i] / 255, base = CLASS_RGB[k % CLASS_RGB.length];
        for (let c = 0; c < 3; c++) rgb[c] += p * (255 + (base[c] - 255) * 0.6);
      }
    } else {
      const t = maps[maps.length - 1][i] / 255;
      rgb = pg.diverging(0.5 + (t - 0.5) * 0.7);
    }
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  return image;
};

pg.paintImage = function (context, image, x, y, width, height) {
  const buffer = document.createElement("canvas");
  buffer.width = image.width; buffer.height = image.height;
  buffer.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(buffer, x, y, width, height);
};

pg.toPixel = function (box, width, height, x1, x2) {
  return [(x1 - box[0]) / (box[1] - box[0]) * width, (box[3] - x2) / (box[3] - box[2]) * height];
};

pg.pointColor = function (state, target) {
  if (state.task === "classification") {
    const c = CLASS_RGB[target % CLASS_RGB.length];
    return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  }
  const range = state.boundary.kind === "value" ? state.boundary.range : pg.targetRange(state);
  const c = pg.diverging(Math.min(1, Math.max(0, (target - range[0]) / (range[1] - range[0] || 1))));
  return `rgb(${c[0] | 0}, ${c[1] | 0}, ${c[2] | 0})`;
};

// The targets' range, for colouring points when the map shows signs instead of values.
pg.targetRange = function (state) {
  let low = Infinity, high = -Infinity;
  for (const split of [state.points.train, state.points.test]) for (const p of split) {
    low = Math.min(low, p[2]); high = Math.max(high, p[2]);
  }
  return Number.isFinite(low) ? [low, high] : [0, 1];
};

// Text with a white halo, so it reads over any colour.
function haloText(context, text, x, y) {
  context.save();
  context.strokeStyle = "rgba(255, 255, 255, 0.9)"; context.lineWidth = 3; context.lineJoin = "round";
  context.strokeText(text, x, y);
  context.fillText(text, x, y);
  context.restore();
}

pg.drawBoundary = function (state) {
  const canvas = $("boundary-canvas");
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  if (state.boundary) pg.paintImage(context, pg.outputImage(state.boundary), 0, 0, width, height);
  if (state.compare && state.compare.boundary) pg.drawOtherBoundary(context, state.compare.boundary, width, height);
  const box = state.box;
  if (!box || !state.points) return;
  for (const [split, points] of [["train", state.points.train], ["test", state.points.test]]) {
    for (const [x1, x2, target] of points) {
      const [px, py] = pg.toPixel(box, width, height, x1, x2);
      context.beginPath();
      context.arc(px, py, 3.2, 0, 2 * Math.PI);
      context.fillStyle = split === "train" ? pg.pointColor(state, target) : "#fff";
      context.strokeStyle = split === "train" ? "#fff" : pg.pointColor(state, target);
      context.lineWidth = split === "train" ? 1 : 1.8;
      context.fill(); context.stroke();
    }
  }
  // the axes, inside the map: x1 along the bottom, x2 up the left side
  context.font = FONT; context.fillStyle = INK;
  const ticks = niceTicks(box[0], box[1], width < 300 ? 3 : 5);
  context.textAlign = "center";
  for (const t of ticks.slice(1, -1)) {
    const [px] = pg.toPixel(box, width, height, t, 0);
    context.fillRect(px - 0.5, height - 5, 1, 5);
    haloText(context, lab.format(t, 3), px, height - 8);
  }
  context.textAlign = "left";
  for (const t of niceTicks(box[2], box[3], width < 300 ? 3 : 5).slice(1, -1)) {
    const [, py] = pg.toPixel(box, width, height, 0, t);
    context.fillRect(0, py - 0.5, 5, 1);
    haloText(context, lab.format(t, 3), 7, py + 4);
  }
  context.textAlign = "right"; haloText(context, "x1 →", width - 4, height - 8);
  context.textAlign = "left"; haloText(context, "x2 ↑", 7, 15);
};

pg.neuronImage = function (encoded, size) {
  const bytes = pg.bytesOf(encoded), image = new ImageData(size, size);
  for (let i = 0; i < bytes.length; i++) {
    const rgb = pg.diverging(bytes[i] / 255);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  return image;
};

// Where each column and unit goes: input names fit on the left, the units fit the width,
// and in the backward view each unit has room under it for its δ̄ label. The canvas grows
// taller when a column of units needs it.
pg.layoutNetwork = function (canvas, context, picture, backward) {
  const widths = [picture.inputs.length, ...picture.layers.map((l) => l.W.length)];
  const columns = widths.length, tallest = Math.max(...widths);
  context.font = FONT;
  const nameWidth = Math.max(...picture.inputs.map((n) => context.measureText(n).width));
  const left = nameWidth + 10, right = 8;
  const gap = backward ? 20 : 8, minimum = 12;
  const width = canvas.clientWidth;
  const spacing = (width - left - right) / Math.max(1, columns);
  canvas.style.height = "";  // the height the page's style gives it
  const room = canvas.clientHeight;
  const node = Math.max(minimum, Math.min(40, spacing * 0.5, (room - 16) / tallest - gap));
  const height = Math.max(room, tallest * (node + gap) + 16);
  if (height > room + 1) canvas.style.height = `${height}px`;
  const xs = widths.map((_, i) => left + i * (width - left - right - node) / Math.max(1, columns - 1));
  const ys = widths.map((n) => [...Array(n).keys()].map(
    (j) => (height - n * (node + gap) + gap) / 2 + j * (node + gap)));
  return { widths, xs, ys, node, height, width };
};

pg.drawNetwork = function (state) {
  const canvas = $("network-canvas");
  const picture = state.network;
  if (!picture) return;
  const backward = $("view").value === "backward";
  let context = lab.fitCanvas(canvas);
  const layout = pg.layoutNetwork(canvas, context, picture, backward);
  context = lab.fitCanvas(canvas);  // after a change of height
  const { widths, xs, ys, node, width, height } = layout;
  context.clearRect(0, 0, width, height);
  // edges: W (forward) or ∂L/∂W (backward), colour by sign, width by size
  let largest = 1e-12;
  for (const layer of picture.layers) {
    for (const row of backward ? layer.dW : layer.W) for (const v of row) largest = Math.max(largest, Math.abs(v || 0));
  }
  pg.edges = []; pg.nodes = []; pg.units = []; pg.labels = [];
  const check = $("paint-check").checked ? state.gradient_check : null;
  picture.layers.forEach((layer, l) => {
    const values = backward ? layer.dW : layer.W;
    values.forEach((row, j) => row.forEach((v, k) => {
      const x0 = xs[l] + node, y0 = ys[l][k] + node / 2, x1 = xs[l + 1], y1 = ys[l + 1][j] + node / 2;
      const value = v || 0;
      context.strokeStyle = value >= 0 ? POSITIVE : NEGATIVE;
      context.globalAlpha = 0.25 + 0.75 * Math.min(1, Math.abs(value) / largest);
      context.lineWidth = 0.5 + 5.5 * Math.min(1, Math.abs(value) / largest);
      if (check && check.layers[l] && check.layers[l].W[j]) {
        // the check painted: green within the tolerance, red beyond (the server's call);
        // width grows with log error
        const error = check.layers[l].W[j][k];
        context.strokeStyle = check.layers[l].W_passed[j][k] ? "#15803d" : "#b91c1c";
        context.globalAlpha = 0.9;
        context.lineWidth = 1 + Math.max(0, Math.min(5, (Math.log10(Math.max(error, 1e-16)) + 16) / 3));
      }
      if (pg.selected && !pg.selected.bias && pg.selected.layer === l && pg.selected.row === j && pg.selected.col === k) {
        context.strokeStyle = "#111"; context.globalAlpha = 1; context.lineWidth = Math.max(context.lineWidth, 3);
      }
      context.beginPath(); context.moveTo(x0, y0); context.lineTo(x1, y1); context.stroke();
      pg.edges.push({ layer: l, row: j, col: k, x0, y0, x1, y1, value: layer.W[j][k] });
    }));
  });
  context.globalAlpha = 1;
  // units: each one's own output on the grid (forward) or its δ̄ (backward)
  const neurons = state.neurons || [];
  let deltaMax = 1e-12;
  for (const layer of picture.layers) for (const d of layer.delta) deltaMax = Math.max(deltaMax, Math.abs(d || 0));
  const texts = [];
  widths.forEach((n, l) => {
    for (let j = 0; j < n; j++) {
      const x = xs[l], y = ys[l][j];
      if (backward && l > 0) {
        const d = picture.layers[l - 1].delta[j] || 0;
        const rgb = pg.diverging(0.5 + 0.5 * Math.max(-1, Math.min(1, d / deltaMax)));
        context.fillStyle = `rgb(${rgb[0] | 0}, ${rgb[1] | 0}, ${rgb[2] | 0})`;
        context.fillRect(x, y, node, node);
        texts.push({ text: `δ̄ ${lab.format(d, 2)}`, x: x + node / 2, y: y + node + 14, align: "center" });
      } else if (neurons[l] && neurons[l][j]) {
        pg.paintImage(context, pg.neuronImage(neurons[l][j].map, 16), x, y, node, node);
      } else {
        context.fillStyle = "#fff"; context.fillRect(x, y, node, node);
      }
      context.strokeStyle = "#5b6475"; context.lineWidth = 1;
      if (l > 0 && pg.selected && pg.selected.layer === l - 1 && pg.selected.row === j && pg.selected.bias) {
        context.strokeStyle = "#111"; context.lineWidth = 3;
      }
      context.strokeRect(x, y, node, node);
      pg.units.push({ layer: l, row: j, x, y, size: node });
      if (l > 0) pg.nodes.push({ layer: l - 1, row: j, x, y, size: node });
      if (l === 0) texts.push({ text: picture.inputs[j], x: x - 5, y: y + node / 2 + 4, align: "right" });
    }
  });
  // text last, over everything drawn, on a light background
  context.font = FONT;
  for (const t of texts) {
    const w = context.measureText(t.text).width;
    const wanted = t.align === "center" ? t.x - w / 2 : t.x - w;
    const left = Math.max(2, Math.min(width - w - 2, wanted));  // inside the canvas
    context.fillStyle = "rgba(255, 255, 255, 0.85)";
    context.fillRect(left - 2, t.y - 11, w + 4, 14);
    context.fillStyle = INK; context.textAlign = "left";
    context.fillText(t.text, left, t.y);
    pg.labels.push({ text: t.text, x: left, y: t.y - 10, width: w, height: 13 });
  }
  context.textAlign = "left";
  $("network-legend").textContent = backward
    ? "edges: ∂L/∂w (blue +, orange −, width |∂L/∂w|) · units: δ̄ = ∂L/∂b on the training set"
    : "edges: weight (blue +, orange −, width |w|) · units: each one's output · click an edge to edit it";
};

// Lines of history columns against the step, with axes and a legend; log scale for the
// gradient norms. B's rows ([step, train, test]) are drawn in grey under A's when given;
// `shown` marks the step a replay shows.
pg.drawChart = function (canvas, series, options) {
  const logScale = options.log, other = options.other;
  const f0 = (v) => (logScale ? Math.log10(Math.max(v, 1e-12)) : v);
  let low = Infinity, high = -Infinity;
  for (const row of pg.history) for (const s of series) {
    const v = row[s.column];
    if (v !== null && v !== undefined) { low = Math.min(low, f0(v)); high = Math.max(high, f0(v)); }
  }
  for (const row of other || []) for (const c of [1, 2]) {
    if (row[c] !== null && row[c] !== undefined) { low = Math.min(low, f0(row[c])); high = Math.max(high, f0(row[c])); }
  }
  if (!Number.isFinite(low)) { low = 0; high = 1; }
  if (logScale) { low = Math.floor(low); high = Math.ceil(high); } else low = Math.min(low, 0);
  if (high - low < 1e-9) high = low + 1;
  const lastStep = Math.max(1, pg.history.length ? pg.history[pg.history.length - 1][0] : 1);
  const entries = series.map((s, i) => ({ label: s.label, color: s.color || PALETTE[i % PALETTE.length], dash: s.dash }));
  if (other) entries.push({ label: "B train", color: "#9aa3b2" }, { label: "B test", color: "#9aa3b2", dash: [5, 4] });
  if (options.shown !== null && options.shown !== undefined) entries.push({ label: `shown: step ${options.shown}`, color: INK, dash: [2, 3] });
  const margins = { left: logScale ? 50 : 56 };
  const f = frame(canvas, [0, lastStep, low, high], { ...margins, top: legendHeight(canvas, entries, margins) + 4 });
  const c = f.context;
  axes(f, { title: "step", ticks: niceTicks(0, lastStep, Math.max(2, Math.floor((f.right - f.left) / 70))) },
    logScale ? { title: options.title, ticks: powerTicks(low, high, 4), label: power }
      : { title: options.title, ticks: niceTicks(low, high, 4) });
  c.save();
  c.beginPath(); c.rect(f.left, f.top, f.right - f.left, f.bottom - f.top); c.clip();
  if (other) {
    [1, 2].forEach((col) => {
      c.strokeStyle = "#9aa3b2"; c.lineWidth = 1.5; c.setLineDash(col === 2 ? [5, 4] : []);
      c.beginPath();
      other.forEach((row, i) => {
        if (row[col] === null) return;
        if (i) c.lineTo(f.px(row[0]), f.py(f0(row[col]))); else c.moveTo(f.px(row[0]), f.py(f0(row[col])));
      });
      c.stroke();
    });
  }
  series.forEach((s, i) => {
    c.strokeStyle = entries[i].color; c.setLineDash(s.dash || []); c.lineWidth = 1.8;
    c.beginPath();
    let started = false;
    for (const row of pg.history) {
      const v = row[s.column];
      if (v === null || v === undefined) { started = false; continue; }
      if (started) c.lineTo(f.px(row[0]), f.py(f0(v))); else c.moveTo(f.px(row[0]), f.py(f0(v)));
      started = true;
    }
    c.stroke();
  });
  c.setLineDash([]);
  if (options.shown !== null && options.shown !== undefined) {
    c.strokeStyle = INK; c.lineWidth = 1.5; c.setLineDash([2, 3]);
    c.beginPath(); c.moveTo(f.px(options.shown), f.top); c.lineTo(f.px(options.shown), f.bottom); c.stroke();
    c.setLineDash([]);
  }
  c.restore();
  legend(f, entries, "above");
};

pg.drawHistograms = function (state) {
  const canvas = $("histogram-canvas");
  const h = state.histograms;
  if (h) {  // a row of at least 64 px per layer
    const wanted = Math.max(240, h.layers.length * 64 + 24);
    if (Math.abs(canvas.clientHeight - wanted) > 1) canvas.style.height = `${wanted}px`;
  }
  const ctx = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  if (!h) return;
  $("histogram-step").textContent = `at step ${h.step} (from the current weights)`;
  ctx.font = FONT;
  // the legend, once, at the top
  [["#2f6fdf", "a: activations"], ["#c2410c", "δ: errors"]].forEach(([color, text], i) => {
    const x = 6 + i * width / 2;
    ctx.fillStyle = color; ctx.fillRect(x, 5, 12, 10);
    ctx.fillStyle = INK; ctx.textAlign = "left"; ctx.fillText(text, x + 16, 14);
  });
  const top = 22, rows = h.layers.length, rowHeight = (height - top) / Math.max(1, rows);
  h.layers.forEach((layer, i) => {
    [["activation", "#2f6fdf", 0], ["delta", "#c2410c", 1]].forEach(([key, color, column]) => {
      const hist = layer[key], x0 = 8 + column * width / 2, w = width / 2 - 16;
      const y0 = top + i * rowHeight + 16, hh = rowHeight - 34;
      const most = Math.max(1, ...hist.counts);
      ctx.fillStyle = color;
      hist.counts.forEach((count, b) => {
        const barHeight = count / most * hh;
        ctx.fillRect(x0 + b * w / hist.counts.length, y0 + hh - barHeight, w / hist.counts.length - 1, barHeight);
      });
      ctx.strokeStyle = MUTED; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x0, y0 + hh + 0.5); ctx.lineTo(x0 + w, y0 + hh + 0.5); ctx.stroke();
      ctx.fillStyle = INK; ctx.textAlign = "left";
      ctx.fillText(`layer ${i + 1} ${key === "delta" ? "δ" : "a"}, sd ${lab.format(hist.std, 2)}`, x0, y0 - 3);
      ctx.fillStyle = MUTED;
      ctx.fillText(lab.format(hist.low, 2), x0, y0 + hh + 13);
      ctx.textAlign = "right"; ctx.fillText(lab.format(hist.high, 2), x0 + w, y0 + hh + 13);
    });
  });
  ctx.textAlign = "left";
};

// B's decision boundary: a dot in each cell where its predicted class (or sign) changes,
// drawn over A's heat map. The server sends B's map discretized: each byte is 0 or 255.
pg.drawOtherBoundary = function (context, boundary, width, height) {
  const size = boundary.size, maps = boundary.maps.map(pg.bytesOf);
  const label = (i) => {
    for (let k = 0; k < maps.length; k++) if (maps[k][i] === 255) return maps.length === 1 ? 1 : k;
    return 0;
  };
  context.fillStyle = "rgba(29, 35, 48, 0.75)";
  for (let r = 0; r < size - 1; r++) for (let c = 0; c < size - 1; c++) {
    const i = r * size + c, here = label(i);
    if (here !== label(i + 1) || here !== label(i + size)) {
      context.fillRect((c + 0.5) / size * width - 1, (r + 0.5) / size * height - 1, 2, 2);
    }
  }
};

pg.drawBatchModes = function () {
  const canvas = $("batch-canvas");
  if (!pg.batchModes) { frame(canvas, [0, 1, 0, 1]); return; }
  const byEpoch = $("batch-axis").value === "epochs", column = byEpoch ? 1 : 0;
  const colors = ["#c2410c", "#2f6fdf", "#15803d"];
  let right = 1e-9, low = Infinity, high = -Infinity;
  for (const mode of pg.batchModes.modes) for (const row of mode.rows) {
    right = Math.max(right, row[column]);
    if (row[2] !== null) { low = Math.min(low, row[2]); high = Math.max(high, row[2]); }
  }
  low = Math.min(0, low); if (high - low < 1e-9) high = low + 1;
  // updates span orders of magnitude between the modes: a log axis shows all three
  const xOf = (v) => (byEpoch ? v : Math.log10(1 + v));
  const entries = pg.batchModes.modes.map((mode, i) => ({ label: mode.mode, color: colors[i] }));
  const f = frame(canvas, [0, xOf(right), low, high], { top: legendHeight(canvas, entries) + 4 });
  axes(f, byEpoch ? { title: "epoch", ticks: niceTicks(0, right, 5) }
    : { title: "update (log scale)", ticks: powerTicks(0, xOf(right), 5).map((p) => Math.log10(1 + Math.pow(10, p))),
      label: (t) => power(Math.round(Math.log10(Math.pow(10, t) - 1))) },
  { title: "training loss", ticks: niceTicks(low, high, 4) });
  const c = f.context;
  pg.batchModes.modes.forEach((mode, i) => {
    c.strokeStyle = colors[i]; c.lineWidth = 1.8; c.beginPath();
    mode.rows.forEach((row, n) => {
      const x = f.px(xOf(row[column])), y = f.py(row[2]);
      if (n) c.lineTo(x, y); else c.moveTo(x, y);
    });
    c.stroke();
  });
  legend(f, entries, "above");
  describe(canvas, `Training loss against ${byEpoch ? "epochs" : "updates (log scale)"} for ` +
    pg.batchModes.modes.map((mode) => `${mode.mode} (from ${lab.format(mode.rows[0][2], 3)} to ` +
      `${lab.format(mode.rows[mode.rows.length - 1][2], 3)})`).join(", ") + ".");
  $("batch-legend").textContent = pg.batchModes.modes.map((mode) =>
    `${mode.mode}: ${mode.updates_per_epoch} updates per epoch` +
    (mode.diverged ? ` — ${mode.diverged}` : "")).join(" · ");
};

// Dark blue (low loss) to yellow (high), on log L.
pg.lossColor = function (t) {
  const stops = [[48, 18, 59], [33, 145, 140], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, t)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
  return stops[i].map((c, n) => c + (stops[i + 1][n] - c) * f);
};

pg.drawSurface = function (result) {
  const canvas = $("surface-canvas");
  const span = result.span, size = result.size;
  const f = frame(canvas, [-span, span, -span, span], { left: 52, right: 58, top: 8, bottom: 36 });
  const c = f.context;
  if (!result.range) return;
  const low = Math.log10(Math.max(result.range[0], 1e-12)), high = Math.log10(Math.max(result.range[1], 1e-12));
  const image = new ImageData(size, size);
  result.losses.forEach((loss, i) => {
    const rgb = loss === null ? [255, 255, 255] : pg.lossColor((Math.log10(Math.max(loss, 1e-12)) - low) / (high - low || 1));
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  });
  pg.paintImage(c, image, f.left, f.top, f.right - f.left, f.bottom - f.top);
  const weights = result.mode === "weights";
  const names = weights
    ? result.axes.map((a) => `offset of w${a.row + 1},${a.col + 1} (layer ${a.layer + 1})`)
    : ["α: direction 1", "β: direction 2"];
  axes(f, { title: names[0], ticks: niceTicks(-span, span, 4) }, { title: names[1], ticks: niceTicks(-span, span, 4) });
  c.save();
  c.beginPath(); c.rect(f.left, f.top, f.right - f.left, f.bottom - f.top); c.clip();
  c.strokeStyle = "#fff"; c.lineWidth = 1.5;
  c.beginPath();
  result.path.forEach(([a, b], i) => { if (i) c.lineTo(f.px(a), f.py(b)); else c.moveTo(f.px(a), f.py(b)); });
  c.stroke();
  c.fillStyle = "#fff";
  for (const [a, b] of result.path) c.fillRect(f.px(a) - 1.5, f.py(b) - 1.5, 3, 3);
  c.fillStyle = "#b91c1c"; c.beginPath(); c.arc(f.px(0), f.py(0), 4, 0, 2 * Math.PI); c.fill();
  c.restore();
  // the colour scale, on the right: L from its lowest (bottom) to its highest on the plane
  const barX = f.right + 8, barW = 12;
  for (let y = f.top; y < f.bottom; y++) {
    const rgb = pg.lossColor(1 - (y - f.top) / (f.bottom - f.top));
    c.fillStyle = `rgb(${rgb[0] | 0}, ${rgb[1] | 0}, ${rgb[2] | 0})`; c.fillRect(barX, y, barW, 1);
  }
  c.save();
  c.font = FONT; c.fillStyle = INK; c.textAlign = "center";
  c.translate(barX + barW + 16, (f.top + f.bottom) / 2); c.rotate(-Math.PI / 2);
  c.fillText(`L (log) ${lab.format(result.range[0], 2)} … ${lab.format(result.range[1], 2)}`, 0, 0);
  c.restore();
  legend(f, [{ label: "path so far", color: "#fff", kind: "box" }, { label: "now", color: "#b91c1c", kind: "dot" }], "bottom left");
  describe(canvas, `The training loss on a plane through the current weights (${names[0]} across, ` +
    `${names[1]} up, ±${lab.format(span)}): from ${lab.format(result.range[0], 3)} to ` +
    `${lab.format(result.range[1], 3)}; the path of ${result.path.length} recorded steps ends at the centre.`);
  $("surface-label").textContent = `${weights ? "two weights' axes" : "filter-normalised random directions"}, ` +
    `±${lab.format(span)}, at step ${result.step}: L from ${lab.format(result.range[0], 4)} to ${lab.format(result.range[1], 4)} (log colour scale)`;
  $("surface-label").dataset.value = String(result.range[0]);
};
