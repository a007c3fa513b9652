// /regression's drawing and controls. Every number comes from the server's state;
// this file maps numbers to pixels and user gestures to messages.

import { $, lab, saveFile } from "../common.js";
import { spacePlays } from "../access.js";

const COLORS = { ink: "#1d2330", grid: "#e6e9ef", axis: "#9aa3b2", line: "#2f6fdf",
  closed: "#15803d", residual: "rgba(185, 28, 28, 0.55)", path: "#c2410c", start: "#5b6475" };
let trace = [];          // [step, w, b, L] in the units trained, as streamed
let dragging = null;     // index of the point being dragged
let drawPending = false;

// -- state in ---------------------------------------------------------------------------
lab.onState.push((state, message) => {
  if (message.trace) trace = message.trace.slice();
  else if (message.trace_append) trace.push(...message.trace_append);
  state.trace = trace;
  delete state.trace_append;
  showReadouts(state, message);
  requestDraw();
});
lab.onError.push((error) => {
  $("error").textContent = error.message;
});
lab.onClose.push((event) => {
  $("status").textContent = lab.closeMessage(event);
  $("status").className = "status bad";
});
lab.onState.push((state, message) => {
  if (message.type === "state" && !message.trace_append) $("error").textContent = "";
});

function setInput(id, value) {
  const input = $(id);
  if (document.activeElement !== input && value !== undefined && value !== null) {
    if (input.type === "checkbox") input.checked = value; else input.value = value;
  }
}

function showReadouts(state, message) {
  const m = state.model || {}, c = state.closed || {}, s = state.stability || {};
  lab.setReadout("reg-w", m.w); lab.setReadout("reg-b", m.b);
  lab.setReadout("reg-w-scaled", m.w_scaled); lab.setReadout("reg-b-scaled", m.b_scaled);
  lab.setReadout("reg-loss", m.loss); lab.setReadout("reg-step-count", state.step);
  lab.setReadout("reg-grad-w", m.grad_w); lab.setReadout("reg-grad-b", m.grad_b);
  lab.setReadout("reg-closed-w", c.w); lab.setReadout("reg-closed-b", c.b);
  lab.setReadout("reg-closed-w-scaled", c.w_scaled); lab.setReadout("reg-closed-b-scaled", c.b_scaled);
  lab.setReadout("reg-closed-loss", c.loss); lab.setReadout("reg-distance", c.distance);
  lab.setReadout("reg-lambda-max", s.lambda_max); lab.setReadout("reg-lambda-min", s.lambda_min);
  lab.setReadout("reg-condition", s.condition); lab.setReadout("reg-bound", s.bound);
  if (state.stability && s.condition === null) lab.setText("reg-condition", "∞ (H is singular)");
  const f = state.formulas || {};
  $("f-forward").textContent = f.forward || "";
  $("f-delta").textContent = f.delta || "";
  $("f-loss").textContent = f.loss || "";
  $("f-grad-w").textContent = f.grad_w || "";
  $("f-grad-b").textContent = f.grad_b || "";
  $("f-hessian").textContent = s.hessian
    ? `H = XᵀX/n = [[mean x², mean x], [mean x, 1]] = [[${lab.format(s.hessian[0][0], 4)}, ` +
      `${lab.format(s.hessian[0][1], 4)}], [${lab.format(s.hessian[1][0], 4)}, ` +
      `${lab.format(s.hessian[1][1], 4)}]]` : "";
  const scaling = state.scaling || {};
  $("f-scaling").textContent = `μ = ${lab.format(scaling.mean)}, σ = ${lab.format(scaling.std)};` +
    " w = w′/σ, b = b′ − w′μ/σ";
  const status = state.status || { kind: "", text: "" };
  const statusElement = $("status");
  statusElement.textContent = status.text;
  statusElement.dataset.kind = status.kind;
  statusElement.className = "status " + ({ diverging: "bad", diverged: "bad", zigzag: "warn",
    overshoot: "warn", converged: "good" }[status.kind] || "");
  if (state.divergence) $("divergence-rule").textContent = state.divergence.rule;
  $("play").disabled = !!state.playing;
  $("pause").disabled = !state.playing;
  if (message.settings) {
    const t = state.settings;
    setInput("lr", t.lr); setInput("momentum", t.momentum); setInput("batch-mode", t.batch_mode);
    setInput("batch-size", t.batch_size); setInput("speed", t.speed); setInput("scale", t.scale);
    if (document.activeElement !== $("lr-slider")) $("lr-slider").value = Math.log10(t.lr);
    $("batch-size-label").style.display = t.batch_mode === "mini" ? "" : "none";
    document.body.classList.toggle("scaled", t.scale);
    $("surface-units").textContent = t.scale ? "in the units of standardized x′" : "";
  }
  if (message.generator) {
    const g = state.generator;
    setInput("gen-w", g.w_true); setInput("gen-b", g.b_true); setInput("gen-noise", g.noise);
    setInput("gen-n", g.n); setInput("gen-xmin", g.x_min); setInput("gen-xmax", g.x_max);
    setInput("gen-seed", g.seed);
  }
  placeSliderMark("mark-bound", s.bound);
  placeSliderMark("mark-half", s.zigzag_from);
  if (s.bound_name) {
    $("mark-bound-label").textContent = s.bound_name;
    $("mark-half-label").textContent = s.zigzag_name;
    $("bound-name").textContent = s.bound_name;
  }
}

// The slider is log10(lr) from −4 to 2; a mark sits at log10 of its value.
function placeSliderMark(id, value) {
  const mark = $(id);
  if (!value || value <= 0) { mark.style.display = "none"; return; }
  const input = $("lr-slider");
  const fraction = (Math.log10(value) - Number(input.min)) / (Number(input.max) - Number(input.min));
  mark.style.display = fraction < 0 || fraction > 1 ? "none" : "";
  const thumb = 8;  // keep marks in line with the thumb's centre
  mark.style.left = `calc(${thumb}px + (100% - ${2 * thumb}px) * ${fraction})`;
}

// -- drawing ----------------------------------------------------------------------------
function requestDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
}

function draw() {
  const state = lab.last;
  if (state.type !== "state") return;
  drawData(state);
  drawSurface(state);
  drawLoss(state);
}

// A linear map from a data box to a canvas box with margins.
function frame(canvas, box, margin) {
  const width = canvas.clientWidth, height = canvas.clientHeight;
  const [x0, x1, y0, y1] = box;
  const left = margin.left, right = width - margin.right;
  const top = margin.top, bottom = height - margin.bottom;
  return {
    width, height, left, right, top, bottom, box,
    px: (x) => left + (x - x0) / (x1 - x0) * (right - left),
    py: (y) => bottom - (y - y0) / (y1 - y0) * (bottom - top),
    dx: (px) => x0 + (px - left) / (right - left) * (x1 - x0),
    dy: (py) => y0 + (bottom - py) / (bottom - top) * (y1 - y0),
  };
}

function niceTicks(lo, hi, count) {
  const span = hi - lo, raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((k) => k * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function axes(ctx, f, xLabel, yLabel) {
  ctx.save();
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = COLORS.axis;
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  for (const t of niceTicks(f.box[0], f.box[1], 8)) {
    const x = f.px(t);
    ctx.beginPath(); ctx.moveTo(x, f.top); ctx.lineTo(x, f.bottom); ctx.stroke();
    ctx.textAlign = "center"; ctx.fillText(lab.format(t, 3), x, f.bottom + 13);
  }
  for (const t of niceTicks(f.box[2], f.box[3], 6)) {
    const y = f.py(t);
    ctx.beginPath(); ctx.moveTo(f.left, y); ctx.lineTo(f.right, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(lab.format(t, 3), f.left - 4, y + 4);
  }
  ctx.strokeStyle = COLORS.axis;
  ctx.strokeRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
  ctx.fillStyle = COLORS.ink;
  ctx.textAlign = "center"; ctx.fillText(xLabel, (f.left + f.right) / 2, f.height - 3);
  ctx.save(); ctx.translate(11, (f.top + f.bottom) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(yLabel, 0, 0); ctx.restore();
  ctx.restore();
}

function clip(ctx, f) {
  ctx.beginPath(); ctx.rect(f.left, f.top, f.right - f.left, f.bottom - f.top); ctx.clip();
}

function dataFrame(canvas, state) {
  return frame(canvas, state.data_view, { left: 48, right: 12, top: 10, bottom: 30 });
}

function drawData(state) {
  const canvas = $("data-canvas");
  const ctx = lab.fitCanvas(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const f = dataFrame(canvas, state);
  axes(ctx, f, "x", "y");
  ctx.save(); clip(ctx, f);
  const [x0, x1] = f.box;
  const m = state.model, c = state.closed;
  if (m && m.loss !== null) {  // residuals: from each point to the current line
    ctx.strokeStyle = COLORS.residual; ctx.lineWidth = 1;
    for (const [x, y] of state.points) {
      ctx.beginPath(); ctx.moveTo(f.px(x), f.py(y)); ctx.lineTo(f.px(x), f.py(m.w * x + m.b)); ctx.stroke();
    }
  }
  if (c) {
    ctx.setLineDash([7, 5]); ctx.strokeStyle = COLORS.closed; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(f.px(x0), f.py(c.w * x0 + c.b)); ctx.lineTo(f.px(x1), f.py(c.w * x1 + c.b)); ctx.stroke();
    ctx.setLineDash([]);
  }
  if (m && Number.isFinite(m.w * x0 + m.b) && Number.isFinite(m.w * x1 + m.b)) {
    ctx.strokeStyle = COLORS.line; ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.moveTo(f.px(x0), f.py(m.w * x0 + m.b)); ctx.lineTo(f.px(x1), f.py(m.w * x1 + m.b)); ctx.stroke();
  }
  ctx.fillStyle = COLORS.ink;
  for (const [x, y] of state.points) {
    ctx.beginPath(); ctx.arc(f.px(x), f.py(y), 3.5, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.restore();
}

function surfaceFrame(canvas, surface) {
  return frame(canvas, surface.view, { left: 48, right: 12, top: 10, bottom: 30 });
}

function drawSurface(state) {
  const canvas = $("surface-canvas");
  const ctx = lab.fitCanvas(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const surface = state.surface;
  if (!surface) return;
  const f = surfaceFrame(canvas, surface);
  const scaled = state.settings && state.settings.scale;
  axes(ctx, f, scaled ? "w′" : "w", scaled ? "b′" : "b");
  ctx.save(); clip(ctx, f);
  surface.contours.forEach((line, k) => {
    const shade = Math.round(150 - 110 * k / Math.max(1, surface.contours.length - 1));
    ctx.strokeStyle = `rgb(${shade}, ${shade + 25}, 225)`; ctx.lineWidth = 1.2;
    ctx.beginPath();
    line.forEach(([w, b], i) => (i ? ctx.lineTo(f.px(w), f.py(b)) : ctx.moveTo(f.px(w), f.py(b))));
    ctx.stroke();
  });
  // the path: recorded (w, b) then the current point
  const path = trace.map((e) => [e[1], e[2]]);
  if (state.model) path.push([state.model.w_scaled, state.model.b_scaled]);
  ctx.strokeStyle = COLORS.path; ctx.lineWidth = 1.6;
  ctx.beginPath();
  path.forEach(([w, b], i) => (i ? ctx.lineTo(f.px(w), f.py(b)) : ctx.moveTo(f.px(w), f.py(b))));
  ctx.stroke();
  ctx.fillStyle = COLORS.path;
  for (const [w, b] of path.length > 400 ? [] : path) {
    ctx.beginPath(); ctx.arc(f.px(w), f.py(b), 1.8, 0, 2 * Math.PI); ctx.fill();
  }
  if (state.start) {
    ctx.strokeStyle = COLORS.start; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(f.px(state.start[0]), f.py(state.start[1]), 6, 0, 2 * Math.PI); ctx.stroke();
  }
  const [ws, bs] = surface.minimum;
  star(ctx, f.px(ws), f.py(bs), 9, COLORS.closed);
  if (state.model) {
    ctx.fillStyle = COLORS.line;
    ctx.beginPath(); ctx.arc(f.px(state.model.w_scaled), f.py(state.model.b_scaled), 4.5, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.restore();
  const m = state.model;
  if (m && (m.w_scaled < f.box[0] || m.w_scaled > f.box[1] || m.b_scaled < f.box[2] || m.b_scaled > f.box[3])) {
    ctx.save();
    ctx.font = "12px system-ui, sans-serif"; ctx.fillStyle = COLORS.path; ctx.textAlign = "left";
    ctx.fillText(`current (w, b) off the plot: (${lab.format(m.w_scaled, 3)}, ${lab.format(m.b_scaled, 3)})`,
      f.left + 6, f.top + 16);
    ctx.restore();
  }
}

function star(ctx, x, y, r, color) {
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 ? r * 0.45 : r, angle = -Math.PI / 2 + i * Math.PI / 5;
    ctx.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  ctx.closePath(); ctx.fill();
}

function drawLoss(state) {
  const canvas = $("loss-canvas");
  const ctx = lab.fitCanvas(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const points = trace.filter((e) => e[3] > 0);
  const minimum = state.closed ? state.closed.loss : null;
  if (!points.length) return;
  const logs = points.map((e) => Math.log10(e[3]));
  if (minimum > 0) logs.push(Math.log10(minimum));
  let lo = Math.floor(Math.min(...logs)), hi = Math.ceil(Math.max(...logs));
  if (hi <= lo) hi = lo + 1;
  const last = points[points.length - 1][0];
  const f = frame(canvas, [0, Math.max(last, 10), lo, hi], { left: 48, right: 12, top: 8, bottom: 30 });
  ctx.save();
  ctx.font = "12px system-ui, sans-serif"; ctx.fillStyle = COLORS.axis; ctx.strokeStyle = COLORS.grid;
  const every = Math.max(1, Math.ceil((hi - lo) / 6));
  for (let p = lo; p <= hi; p += every) {
    const y = f.py(p);
    ctx.beginPath(); ctx.moveTo(f.left, y); ctx.lineTo(f.right, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(`1e${p}`.replace("-", "−"), f.left - 4, y + 4);
  }
  for (const t of niceTicks(0, Math.max(last, 10), 8)) {
    ctx.textAlign = "center"; ctx.fillText(lab.format(t, 4), f.px(t), f.bottom + 13);
  }
  ctx.strokeStyle = COLORS.axis; ctx.strokeRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
  ctx.fillStyle = COLORS.ink; ctx.textAlign = "center"; ctx.fillText("step", (f.left + f.right) / 2, f.height - 3);
  ctx.save(); ctx.translate(11, (f.top + f.bottom) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText("L", 0, 0); ctx.restore();
  clip(ctx, f);
  if (minimum > 0) {
    ctx.setLineDash([6, 4]); ctx.strokeStyle = COLORS.closed;
    ctx.beginPath(); ctx.moveTo(f.left, f.py(Math.log10(minimum))); ctx.lineTo(f.right, f.py(Math.log10(minimum))); ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = COLORS.line; ctx.lineWidth = 1.8;
  ctx.beginPath();
  points.forEach((e, i) => (i ? ctx.lineTo(f.px(e[0]), f.py(Math.log10(e[3]))) : ctx.moveTo(f.px(e[0]), f.py(Math.log10(e[3])))));
  ctx.stroke();
  ctx.restore();
}

// -- gestures out -----------------------------------------------------------------------
function canvasPoint(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

function nearestPoint(f, points, px, py) {
  let best = -1, bestDistance = 8;
  points.forEach(([x, y], i) => {
    const d = Math.hypot(f.px(x) - px, f.py(y) - py);
    if (d <= bestDistance) { best = i; bestDistance = d; }
  });
  return best;
}

const dataCanvas = $("data-canvas");
dataCanvas.addEventListener("mousedown", (event) => {
  const state = lab.last;
  if (!state.data_view) return;
  const f = dataFrame(dataCanvas, state);
  const [px, py] = canvasPoint(dataCanvas, event);
  const index = nearestPoint(f, state.points, px, py);
  if (index >= 0 && event.shiftKey) {
    lab.send("remove_point", { index });
  } else if (index >= 0) {
    dragging = index;
  } else if (px >= f.left && px <= f.right && py >= f.top && py <= f.bottom) {
    lab.send("add_point", { x: f.dx(px), y: f.dy(py) });
  }
});
let moveQueued = null;
dataCanvas.addEventListener("mousemove", (event) => {
  if (dragging === null) return;
  const f = dataFrame(dataCanvas, lab.last);
  const [px, py] = canvasPoint(dataCanvas, event);
  const first = moveQueued === null;
  moveQueued = { index: dragging, x: f.dx(px), y: f.dy(py) };
  if (first) requestAnimationFrame(() => { lab.send("move_point", moveQueued); moveQueued = null; });
});
window.addEventListener("mouseup", () => { dragging = null; });

const surfaceCanvas = $("surface-canvas");
surfaceCanvas.addEventListener("click", (event) => {
  const surface = lab.last.surface;
  if (!surface) return;
  const f = surfaceFrame(surfaceCanvas, surface);
  const [px, py] = canvasPoint(surfaceCanvas, event);
  if (px < f.left || px > f.right || py < f.top || py > f.bottom) return;
  lab.send("set_start", { w: f.dx(px), b: f.dy(py) });
});

$("play").addEventListener("click", () => lab.send("play"));
$("pause").addEventListener("click", () => lab.send("pause"));
$("step").addEventListener("click", () => lab.send("step"));
$("reset").addEventListener("click", () => lab.send("reset"));
spacePlays();

function sendNumber(id, field, integer) {
  const value = Number($(id).value);
  if ($(id).value === "" || !Number.isFinite(value)) {
    $("error").textContent = `The ${field.replace("_", " ")} must be a number.`;
    return;
  }
  lab.send("set", { [field]: integer ? Math.round(value) : value });
}
$("lr").addEventListener("change", () => sendNumber("lr", "lr"));
$("lr-slider").addEventListener("input", () => {
  const lr = Number(Math.pow(10, Number($("lr-slider").value)).toPrecision(3));
  $("lr").value = lr;
  lab.send("set", { lr });
});
$("momentum").addEventListener("change", () => sendNumber("momentum", "momentum"));
$("batch-size").addEventListener("change", () => sendNumber("batch-size", "batch_size", true));
$("speed").addEventListener("change", () => sendNumber("speed", "speed"));
$("batch-mode").addEventListener("change", () => lab.send("set", { batch_mode: $("batch-mode").value }));
$("scale").addEventListener("change", () => lab.send("set", { scale: $("scale").checked }));

$("generate").addEventListener("click", () => {
  const read = (id) => Number($(id).value);
  lab.send("generate", { w_true: read("gen-w"), b_true: read("gen-b"), noise: read("gen-noise"),
    n: Math.round(read("gen-n")), x_min: read("gen-xmin"), x_max: read("gen-xmax"),
    seed: Math.round(read("gen-seed")) });
});
$("csv-file").addEventListener("change", async () => {
  const file = $("csv-file").files[0];
  if (file) lab.send("load_csv", { text: await file.text() });
  $("csv-file").value = "";
});
$("download").addEventListener("click", () => lab.send("download_csv"));
lab.connect("regression");
lab.socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== "csv") return;
  saveFile(message.filename, message.text, "text/csv");
});
window.addEventListener("resize", requestDraw);
