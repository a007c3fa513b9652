// /playground's drawing and controls. Every number comes from the server's state; this
// file maps numbers to pixels and gestures to messages.

import { $, lab, saveFile } from "../common.js";
import { pg } from "./draw.js";
import "./tools.js";

let drawPending = false;
let optionsFilled = false;
let fromLink = null;         // setup fields read from the page's URL, sent once

// -- the page's URL: setup fields, and classroom flags ----------------------------------------
function readLink() {
  const params = new URLSearchParams(location.search);
  pg.classroom.hide = (params.get("hide") || "").split(",").filter(Boolean);
  pg.classroom.lock = params.get("lock") === "1";
  params.delete("hide"); params.delete("lock");
  const fields = {};
  for (const [key, value] of params) fields[key] = value;
  return Object.keys(fields).length ? fields : null;
}

// A URL value typed like the setup's current value of that field.
function typed(key, text, current) {
  if (Array.isArray(current)) {
    const parts = text === "" ? [] : text.split(",");
    return key === "layers" ? parts.map(Number) : parts;
  }
  if (typeof current === "number") return Number(text);
  if (typeof current === "boolean") return text === "1" || text === "true";
  return text;
}

function shareUrl(setup) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(setup)) {
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  if (pg.classroom.hide.length) params.set("hide", pg.classroom.hide.join(","));
  if (pg.classroom.lock) params.set("lock", "1");
  return `${location.origin}/playground?${params.toString()}`;
}

function applyClassroom() {
  for (const element of document.querySelectorAll("[data-control]")) {
    if (pg.classroom.hide.includes(element.dataset.control)) element.classList.add("hidden-by-link");
  }
  if (pg.classroom.lock) {
    for (const element of document.querySelectorAll("[data-setup], #add-layer, #remove-layer, #features input")) {
      element.disabled = true;
    }
  }
}

// -- state in ---------------------------------------------------------------------------
lab.onState.push((state, message) => {
  if (message.history) pg.history = message.history.slice();
  else if (message.history_append) pg.history.push(...message.history_append);
  delete state.history_append;
  state.history = pg.history;
  if (state.options && !optionsFilled) fillOptions(state.options);
  if (fromLink && state.setup) {
    const fields = {};
    for (const [key, text] of Object.entries(fromLink)) {
      if (key in state.setup) fields[key] = typed(key, text, state.setup[key]);
    }
    fromLink = null;
    lab.send("configure", fields);
  }
  showControls(state);
  showReadouts(state);
  if (message.explanation) pg.showExplanation(message.explanation);
  if (message.gradient_check) pg.showCheck(message.gradient_check);
  if (message.surface) pg.drawSurface(message.surface);
  if (message.batch_modes) { pg.batchModes = message.batch_modes; pg.drawBatchModes(); }
  pg.showComparison(state);
  pg.requestDraw();
});
lab.onState.push((state, message) => {
  if (!message.history_append) $("error").textContent = "";
});
lab.onError.push((error) => { $("error").textContent = `${error.field}: ${error.message}`; });
lab.onClose.push((event) => {
  $("status").textContent = lab.closeMessage(event);
  $("status").className = "status bad";
});

function fillOptions(options) {
  for (const [id, key] of [["dataset", "dataset"], ["activation", "activation"], ["init", "init"],
    ["optimizer", "optimizer"], ["loss", "loss"]]) {
    $(id).replaceChildren(...options[key].map((name) => new Option(name, name)));
  }
  $("features").replaceChildren(...options.features.map((name) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox"; box.value = name; box.dataset.testid = `pg-feature-${name}`;
    box.addEventListener("change", () => {
      const chosen = [...$("features").querySelectorAll("input:checked")].map((b) => b.value);
      lab.send("configure", { features: chosen });
    });
    label.append(name, box);
    return label;
  }));
  optionsFilled = true;
  applyClassroom();
}

function showControls(state) {
  const setup = state.setup;
  if (!setup) return;
  for (const input of document.querySelectorAll("[data-setup]")) {
    if (document.activeElement !== input) input.value = setup[input.dataset.setup];
  }
  if (document.activeElement !== $("lr-slider")) $("lr-slider").value = Math.log10(setup.lr);
  for (const box of $("features").querySelectorAll("input")) box.checked = setup.features.includes(box.value);
  const units = $("units");
  units.replaceChildren(...setup.layers.map((size, i) => {
    const span = document.createElement("span");
    const minus = document.createElement("button"), plus = document.createElement("button");
    minus.textContent = "−"; plus.textContent = "+";
    minus.dataset.testid = `pg-units-minus-${i}`; plus.dataset.testid = `pg-units-plus-${i}`;
    minus.disabled = pg.classroom.lock || size <= 1; plus.disabled = pg.classroom.lock || size >= 16;
    const change = (delta) => {
      const layers = setup.layers.slice(); layers[i] = size + delta;
      lab.send("configure", { layers });
    };
    minus.addEventListener("click", () => change(-1));
    plus.addEventListener("click", () => change(+1));
    span.append(`layer ${i + 1}: ${size} `, minus, plus);
    return span;
  }));
  const link = shareUrl(setup);
  $("share-url").href = link;
  $("share-url").textContent = link;
  $("accuracy-row").hidden = state.task !== "classification";
}

function showReadouts(state) {
  lab.setReadout("pg-epoch", state.epoch);
  lab.setReadout("pg-step-count", state.step);
  lab.setReadout("pg-loss-train", state.loss_train);
  lab.setReadout("pg-loss-test", state.loss_test);
  lab.setReadout("pg-accuracy-train", state.accuracy_train);
  lab.setReadout("pg-accuracy-test", state.accuracy_test);
  const status = $("status");
  status.textContent = state.status || "";
  status.className = "status" + (state.diverged ? " bad" : state.playing ? " good" : "");
  const mark = $("mark-stable");
  if (state.stable_lr) {
    const slider = $("lr-slider"), low = Number(slider.min), high = Number(slider.max);
    const where = (Math.log10(state.stable_lr) - low) / (high - low);
    mark.style.left = `${Math.min(1, Math.max(0, where)) * 100}%`;
    mark.style.display = "block";
    mark.dataset.value = String(state.stable_lr);
    mark.title = `a stable learning rate: ${lab.format(state.stable_lr)}`;
  } else {
    mark.style.display = "none";
    mark.dataset.value = "";
  }
  showConfusion(state.confusion);
  const replay = $("replay");
  if (state.replay && document.activeElement !== replay) {
    replay.min = String(state.replay.first);
    replay.max = String(state.step);
    replay.value = String(state.step);
    $("replay-label").textContent = `step ${state.step} · back to ${state.replay.first} ` +
      `(${state.replay.snapshots} snapshots, every ${state.replay.every} steps, the rest recomputed)`;
  }
}

function showConfusion(counts) {
  const box = $("confusion");
  if (!counts) { box.replaceChildren(); return; }
  const table = document.createElement("table");
  const head = table.insertRow();
  head.insertCell().textContent = "true \\ predicted";
  counts.forEach((_, j) => { head.insertCell().textContent = String(j); });
  counts.forEach((row, i) => {
    const tr = table.insertRow();
    tr.insertCell().textContent = String(i);
    row.forEach((n) => { const cell = tr.insertCell(); cell.textContent = String(n); cell.dataset.value = String(n); });
  });
  box.replaceChildren(table);
}

// -- drawing ----------------------------------------------------------------------------
pg.requestDraw = function () {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(lab.last); });
};

function draw(state) {
  if (state.type !== "state") return;
  pg.drawBoundary(state);
  pg.drawNetwork(state);
  pg.drawHistograms(state);
  pg.drawChart($("loss-canvas"), [2, 3], [false, true], false,
    state.compare ? state.compare.rows : null);
  const layers = state.network ? state.network.layers.length : 0;
  pg.drawChart($("norm-canvas"), [...Array(layers).keys()].map((i) => 5 + i), [], true);
}

// -- gestures out -----------------------------------------------------------------------
function configure(field, value) { lab.send("configure", { [field]: value }); }

for (const input of document.querySelectorAll("[data-setup]")) {
  input.addEventListener("change", () => {
    const field = input.dataset.setup, current = (lab.last.setup || {})[field];
    const value = typeof current === "number" ? Number(input.value) : input.value;
    if (typeof value === "number" && !Number.isFinite(value)) return;
    configure(field, value);
  });
}
$("lr-slider").addEventListener("change", () => {
  configure("lr", Number(Math.pow(10, Number($("lr-slider").value)).toPrecision(3)));
});
$("play").addEventListener("click", () => lab.send("play"));
$("pause").addEventListener("click", () => lab.send("pause"));
$("step").addEventListener("click", () => lab.send("step", { count: 1 }));
$("reset").addEventListener("click", () => lab.send("reset"));
$("view").addEventListener("change", pg.requestDraw);
$("replay").addEventListener("change", () => {
  lab.send("rewind", { step: Number($("replay").value) });
  $("replay").blur();
});
$("add-layer").addEventListener("click", () => {
  const layers = (lab.last.setup.layers || []).slice();
  if (layers.length < 8) configure("layers", layers.concat([layers.length ? layers[layers.length - 1] : 4]));
});
$("remove-layer").addEventListener("click", () => {
  const layers = (lab.last.setup.layers || []).slice();
  if (layers.length) configure("layers", layers.slice(0, -1));
});

$("boundary-canvas").addEventListener("click", (event) => {
  const state = lab.last, canvas = $("boundary-canvas");
  if (!state.box || pg.classroom.lock) return;
  const rect = canvas.getBoundingClientRect(), box = state.box;
  const x1 = box[0] + (event.clientX - rect.left) / rect.width * (box[1] - box[0]);
  const x2 = box[3] - (event.clientY - rect.top) / rect.height * (box[3] - box[2]);
  if (event.altKey) {
    lab.send("remove_point", { x1, x2, radius: 8 / rect.width * (box[1] - box[0]) });
  } else if (state.task === "regression") {
    lab.send("add_point", { x1, x2, value: event.shiftKey ? -1 : 1 });
  } else {
    const label = event.ctrlKey || event.metaKey ? Math.min(2, state.n_classes - 1) : event.shiftKey ? 1 : 0;
    lab.send("add_point", { x1, x2, label });
  }
});

$("network-canvas").addEventListener("click", (event) => {
  const rect = $("network-canvas").getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  let best = null, bestDistance = 6;
  for (const unit of pg.nodes) {
    if (x >= unit.x && x <= unit.x + unit.size && y >= unit.y && y <= unit.y + unit.size) {
      const layer = lab.last.network.layers[unit.layer];
      best = { layer: unit.layer, row: unit.row, col: layer.W[0].length, bias: true, value: layer.b[unit.row] };
      bestDistance = -1;
    }
  }
  for (const edge of bestDistance < 0 ? [] : pg.edges) {
    const dx = edge.x1 - edge.x0, dy = edge.y1 - edge.y0;
    const t = Math.max(0, Math.min(1, ((x - edge.x0) * dx + (y - edge.y0) * dy) / (dx * dx + dy * dy)));
    const distance = Math.hypot(edge.x0 + t * dx - x, edge.y0 + t * dy - y);
    if (distance < bestDistance) { best = edge; bestDistance = distance; }
  }
  pg.selected = best;
  if (best) pg.recent = [pg.recent[pg.recent.length - 1], { layer: best.layer, row: best.row, col: best.col }].filter(Boolean);
  $("weight-editor").hidden = !best || pg.classroom.lock;
  if (best) {
    $("weight-name").textContent = best.bias ? `b of layer ${best.layer + 1}, unit ${best.row + 1}`
      : `w of layer ${best.layer + 1}, unit ${best.row + 1} ← input ${best.col + 1}`;
    const layer = lab.last.network.layers[best.layer];  // the weight as it is now
    $("weight-value").value = String(best.bias ? layer.b[best.row] : layer.W[best.row][best.col]);
  }
  pg.requestDraw();
});
$("weight-set").addEventListener("click", () => {
  const value = Number($("weight-value").value);
  if (!pg.selected || !Number.isFinite(value)) return;
  lab.send("set_weight", { layer: pg.selected.layer, row: pg.selected.row, col: pg.selected.col, value });
});
$("weight-cancel").addEventListener("click", () => { pg.selected = null; $("weight-editor").hidden = true; pg.requestDraw(); });

// (the close-ups, batch modes, A/B and the loss surface are in tools.js; drawing in draw.js)

// -- files ------------------------------------------------------------------------------
$("csv-download").addEventListener("click", () => lab.send("download_csv"));
$("model-download").addEventListener("click", () => lab.send("download_model"));
$("export-python").addEventListener("click", () => lab.send("export_python"));
$("csv-upload").addEventListener("change", async () => {
  const file = $("csv-upload").files[0];
  if (file) lab.send("load_csv", { text: await file.text() });
  $("csv-upload").value = "";
});
$("model-upload").addEventListener("change", async () => {
  const file = $("model-upload").files[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  lab.send("load_model", { data: btoa(text) });
  $("model-upload").value = "";
});

// Where the drawn edges and units are (CSS pixels of the network canvas), for scripts and tests.
lab.targets = () => JSON.parse(JSON.stringify({ edges: pg.edges, nodes: pg.nodes }));

fromLink = readLink();
const socket = lab.connect("playground");
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== "file") return;
  lab.lastFile = message;
  if (message.filename.endsWith(".py")) {
    $("export-text").value = message.text;
    $("export-text").hidden = false;
  }
  const body = message.base64 !== undefined ? pg.bytesOf(message.base64) : message.text;
  saveFile(message.filename, body, message.mime);
});
window.addEventListener("resize", pg.requestDraw);
