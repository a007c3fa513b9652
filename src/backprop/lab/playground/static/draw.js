// /playground's drawing: heat maps, the network, charts, the loss surface. Every number
// comes from the server's state; these functions map numbers to pixels.

import { $, lab } from "../common.js";

const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [44, 160, 44]];
const POSITIVE = "#0877bd", NEGATIVE = "#f59322";
// What the page's modules share (they import it): the drawn history, hit targets, the
// selection, and the drawing functions below.
export const pg = {
  history: [],       // [step, epoch, loss_train, loss_test, acc_test, norm_1..]
  edges: [],         // drawn edges for hit tests: {layer, row, col, x0, y0, x1, y1}
  nodes: [],         // drawn units (not inputs) for hit tests: their bias
  selected: null,    // the weight (edge) or bias (unit) being edited or explained
  recent: [],        // the last two weights clicked, for a slice of the loss surface
  batchModes: null,  // the last side-by-side batch-mode runs
  classroom: { hide: [], lock: false },
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
        const p = maps[k][i] / 255, base = CLASS_RGB[k % 3];
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
    const c = CLASS_RGB[target % 3];
    return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  }
  const [low, high] = state.boundary.range;
  const c = pg.diverging(Math.min(1, Math.max(0, (target - low) / (high - low || 1))));
  return `rgb(${c[0] | 0}, ${c[1] | 0}, ${c[2] | 0})`;
};

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
};

pg.neuronImage = function (encoded, size) {
  const bytes = pg.bytesOf(encoded), image = new ImageData(size, size);
  for (let i = 0; i < bytes.length; i++) {
    const rgb = pg.diverging(bytes[i] / 255);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  return image;
};

pg.drawNetwork = function (state) {
  const canvas = $("network-canvas");
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  const picture = state.network;
  if (!picture) return;
  const backward = $("view").value === "backward";
  const widths = [picture.inputs.length, ...picture.layers.map((l) => l.W.length)];
  const columns = widths.length, tallest = Math.max(...widths);
  const node = Math.max(14, Math.min(40, (height - 20) / tallest - 8));
  const xs = widths.map((_, i) => 40 + i * (width - 80 - node) / Math.max(1, columns - 1));
  const ys = widths.map((n) => [...Array(n).keys()].map((j) => (height - n * (node + 8)) / 2 + j * (node + 8)));
  // edges: W (forward) or ∂L/∂W (backward), colour by sign, width by size
  let largest = 1e-12;
  for (const layer of picture.layers) {
    for (const row of backward ? layer.dW : layer.W) for (const v of row) largest = Math.max(largest, Math.abs(v || 0));
  }
  pg.edges = [];
  pg.nodes = [];
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
      if (pg.selected && pg.selected.layer === l && pg.selected.row === j && pg.selected.col === k) {
        context.strokeStyle = "#111"; context.globalAlpha = 1;
      }
      context.beginPath(); context.moveTo(x0, y0); context.lineTo(x1, y1); context.stroke();
      pg.edges.push({ layer: l, row: j, col: k, x0, y0, x1, y1, value: layer.W[j][k] });
    }));
  });
  context.globalAlpha = 1;
  // nodes: each unit's own output on the grid (forward) or its δ̄ (backward)
  const neurons = state.neurons || [];
  let deltaMax = 1e-12;
  for (const layer of picture.layers) for (const d of layer.delta) deltaMax = Math.max(deltaMax, Math.abs(d || 0));
  widths.forEach((n, l) => {
    for (let j = 0; j < n; j++) {
      const x = xs[l], y = ys[l][j];
      if (backward && l > 0) {
        const d = picture.layers[l - 1].delta[j] || 0;
        const rgb = pg.diverging(0.5 + 0.5 * Math.max(-1, Math.min(1, d / deltaMax)));
        context.fillStyle = `rgb(${rgb[0] | 0}, ${rgb[1] | 0}, ${rgb[2] | 0})`;
        context.fillRect(x, y, node, node);
        context.fillStyle = "#1d2330"; context.font = "9px system-ui";
        context.fillText(`δ ${lab.format(d, 2)}`, x, y + node + 8);
      } else if (neurons[l] && neurons[l][j]) {
        pg.paintImage(context, pg.neuronImage(neurons[l][j].map, 16), x, y, node, node);
      }
      context.strokeStyle = "#5b6475"; context.lineWidth = 1;
      if (l > 0 && pg.selected && pg.selected.layer === l - 1 && pg.selected.row === j && pg.selected.bias) {
        context.strokeStyle = "#111"; context.lineWidth = 3;
      }
      context.strokeRect(x, y, node, node);
      if (l > 0) pg.nodes.push({ layer: l - 1, row: j, x, y, size: node });
      if (l === 0) {
        context.fillStyle = "#1d2330"; context.font = "11px system-ui";
        context.fillText(picture.inputs[j], 2, y + node / 2 + 4);
      }
    }
  });
  $("network-legend").textContent = backward
    ? "edges: ∂L/∂w (blue +, orange −, width |∂L/∂w|) · units: δ̄ = ∂L/∂b on the training set"
    : "edges: weight (blue +, orange −, width |w|) · units: each one's output · click an edge to edit it";
};

// Lines of history columns against the step; log scale for gradient norms.
// B's rows ([step, train, test]) are drawn in grey under A's when given.
pg.drawChart = function (canvas, columns, dashed, logScale, other) {
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  if (pg.history.length < 1 || !columns.length) return;
  const f = (v) => (logScale ? Math.log10(Math.max(v, 1e-12)) : v);
  let low = Infinity, high = -Infinity;
  for (const row of pg.history) for (const c of columns) {
    if (row[c] !== null && row[c] !== undefined) { low = Math.min(low, f(row[c])); high = Math.max(high, f(row[c])); }
  }
  for (const row of other || []) for (const c of [1, 2]) {
    if (row[c] !== null && row[c] !== undefined) { low = Math.min(low, f(row[c])); high = Math.max(high, f(row[c])); }
  }
  if (!Number.isFinite(low)) return;
  if (!logScale) low = Math.min(low, 0);
  if (high - low < 1e-9) high = low + 1;
  const lastStep = Math.max(1, pg.history[pg.history.length - 1][0]);
  const palette = ["#2f6fdf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#334155"];
  if (other) {
    [1, 2].forEach((c) => {
      context.strokeStyle = "#9aa3b2"; context.lineWidth = 1.5;
      context.setLineDash(c === 2 ? [5, 4] : []);
      context.beginPath();
      other.forEach((row, i) => {
        if (row[c] === null) return;
        const x = 30 + (row[0] / lastStep) * (width - 40);
        const y = height - 12 - (f(row[c]) - low) / (high - low) * (height - 24);
        if (i) context.lineTo(x, y); else context.moveTo(x, y);
      });
      context.stroke();
    });
  }
  columns.forEach((c, i) => {
    context.strokeStyle = palette[i % palette.length];
    context.setLineDash(dashed[i] ? [5, 4] : []);
    context.lineWidth = 1.5;
    context.beginPath();
    let started = false;
    for (const row of pg.history) {
      if (row[c] === null || row[c] === undefined) { started = false; continue; }
      const x = 30 + (row[0] / lastStep) * (width - 40);
      const y = height - 12 - (f(row[c]) - low) / (high - low) * (height - 24);
      if (started) context.lineTo(x, y); else context.moveTo(x, y);
      started = true;
    }
    context.stroke();
  });
  context.setLineDash([]);
  context.fillStyle = "#5b6475"; context.font = "10px system-ui";
  context.fillText(logScale ? `1e${high.toFixed(1)}` : lab.format(high, 3), 2, 10);
  context.fillText(logScale ? `1e${low.toFixed(1)}` : lab.format(low, 3), 2, height - 2);
};

pg.drawHistograms = function (state) {
  const canvas = $("histogram-canvas");
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  const h = state.histograms;
  if (!h) return;
  $("histogram-step").textContent = `at step ${h.step} (from the current weights)`;
  const rows = h.layers.length, rowHeight = height / Math.max(1, rows);
  h.layers.forEach((layer, i) => {
    [["activation", "#2f6fdf", 0], ["delta", "#c2410c", 1]].forEach(([key, color, column]) => {
      const hist = layer[key], x0 = 6 + column * width / 2, w = width / 2 - 12;
      const y0 = i * rowHeight + 12, hh = rowHeight - 24;
      const top = Math.max(1, ...hist.counts);
      context.fillStyle = color;
      hist.counts.forEach((count, b) => {
        const barHeight = count / top * hh;
        context.fillRect(x0 + b * w / hist.counts.length, y0 + hh - barHeight, w / hist.counts.length - 1, barHeight);
      });
      context.fillStyle = "#1d2330"; context.font = "9px system-ui";
      context.fillText(`layer ${i + 1} ${key === "delta" ? "δ" : "a"}: ${lab.format(hist.low, 2)} … ${lab.format(hist.high, 2)}, sd ${lab.format(hist.std, 2)}`, x0, y0 - 2);
    });
  });
};

// B's decision boundary: a dot in each cell where its output crosses ½ (or, for
// three classes, where the most likely class changes), drawn over A's heat map.
pg.drawOtherBoundary = function (context, boundary, width, height) {
  const size = boundary.size, maps = boundary.maps.map(pg.bytesOf);
  const label = (i) => {
    if (maps.length >= 3) { let best = 0; for (let k = 1; k < maps.length; k++) if (maps[k][i] > maps[best][i]) best = k; return best; }
    if (boundary.kind === "value") return Math.round(maps[0][i] / 64);
    return maps[maps.length - 1][i] >= 128 ? 1 : 0;
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
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  if (!pg.batchModes) return;
  const byEpoch = $("batch-axis").value === "epochs", column = byEpoch ? 1 : 0;
  const colors = ["#c2410c", "#2f6fdf", "#15803d"];
  let right = 1e-9, low = Infinity, high = -Infinity;
  for (const mode of pg.batchModes.modes) for (const row of mode.rows) {
    right = Math.max(right, row[column]);
    if (row[2] !== null) { low = Math.min(low, row[2]); high = Math.max(high, row[2]); }
  }
  low = Math.min(0, low); if (high - low < 1e-9) high = low + 1;
  // updates span orders of magnitude between the modes: a log axis shows all three
  const x = (v) => 30 + (byEpoch ? v / right : Math.log10(1 + v) / Math.log10(1 + right)) * (width - 40);
  pg.batchModes.modes.forEach((mode, i) => {
    context.strokeStyle = colors[i]; context.lineWidth = 1.5; context.beginPath();
    mode.rows.forEach((row, n) => {
      const y = height - 12 - (row[2] - low) / (high - low) * (height - 24);
      if (n) context.lineTo(x(row[column]), y); else context.moveTo(x(row[column]), y);
    });
    context.stroke();
  });
  context.fillStyle = "#5b6475"; context.font = "10px system-ui";
  context.fillText(lab.format(high, 3), 2, 10);
  context.fillText(byEpoch ? `${lab.format(right, 3)} epochs` : `${lab.format(right, 3)} updates (log)`, width - 90, height - 2);
  $("batch-legend").textContent = pg.batchModes.modes.map((mode, i) =>
    `${["orange", "blue", "green"][i]}: ${mode.mode} (${mode.updates_per_epoch} updates per epoch)` +
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
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight, size = result.size;
  context.clearRect(0, 0, width, height);
  if (!result.range) return;
  const low = Math.log10(Math.max(result.range[0], 1e-12)), high = Math.log10(Math.max(result.range[1], 1e-12));
  const image = new ImageData(size, size);
  result.losses.forEach((loss, i) => {
    const rgb = loss === null ? [255, 255, 255] : pg.lossColor((Math.log10(Math.max(loss, 1e-12)) - low) / (high - low || 1));
    image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  });
  pg.paintImage(context, image, 0, 0, width, height);
  const surfacePixel = ([a, b]) => [(a + result.span) / (2 * result.span) * width, (result.span - b) / (2 * result.span) * height];
  context.strokeStyle = "#fff"; context.lineWidth = 1.5;
  context.beginPath();
  result.path.forEach((point, i) => {
    const [x, y] = surfacePixel(point);
    if (i) context.lineTo(x, y); else context.moveTo(x, y);
  });
  context.stroke();
  for (const point of result.path) {
    const [x, y] = surfacePixel(point);
    context.fillStyle = "#fff"; context.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  const [cx, cy] = surfacePixel([0, 0]);
  context.fillStyle = "#b91c1c"; context.beginPath(); context.arc(cx, cy, 4, 0, 2 * Math.PI); context.fill();
  $("surface-label").textContent = `${result.mode === "weights" ? "two weights' axes" : "filter-normalised random directions"}, ` +
    `±${lab.format(result.span)}, at step ${result.step}: L from ${lab.format(result.range[0], 4)} to ${lab.format(result.range[1], 4)} (log colour scale)`;
  $("surface-label").dataset.value = String(result.range[0]);
};
