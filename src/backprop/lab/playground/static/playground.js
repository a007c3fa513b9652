// /playground's drawing and controls. Every number comes from the server's state; this
// file maps numbers to pixels and gestures to messages.

import { $, lab, saveFile } from "../common.js";
import { spacePlays } from "../access.js";
import { pg } from "./draw.js";
import "./tools.js";
import "./words.js";

let drawPending = false;
let optionsFilled = false;
let fromLink = null;         // setup fields read from the page's URL, sent once

// -- the page's URL: setup fields, and classroom flags ----------------------------------------
// hide=lr,optimizer hides those controls; lock=1 asks the server to lock every setting,
// lock=lr,layers only those (the server refuses changes to what it locked).
function readLink() {
  const params = new URLSearchParams(location.search);
  pg.classroom.hide = (params.get("hide") || "").split(",").filter(Boolean);
  const lock = params.get("lock");
  pg.classroom.lock = lock === null || lock === "" || lock === "0" ? null
    : lock === "1" ? [] : lock.split(",").filter(Boolean);
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

function shareUrl(state) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state.setup)) {
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  if (pg.classroom.hide.length) params.set("hide", pg.classroom.hide.join(","));
  const locked = state.locked || [];
  const everything = state.options && locked.length && Object.keys(state.setup).every((k) => locked.includes(k));
  if (locked.length) params.set("lock", everything ? "1" : locked.join(","));
  return `${location.origin}/playground?${params.toString()}`;
}

function applyHidden() {
  for (const element of document.querySelectorAll("[data-control]")) {
    if (pg.classroom.hide.includes(element.dataset.control)) element.classList.add("hidden-by-link");
  }
}

// Controls of what the server locked are disabled (the server refuses them anyway).
function applyLocks(state) {
  const locked = new Set(state.locked || []);
  pg.locked = locked;
  for (const input of document.querySelectorAll("[data-setup]")) input.disabled = locked.has(input.dataset.setup);
  $("add-layer").disabled = $("remove-layer").disabled = locked.has("layers");
  for (const box of $("features").querySelectorAll("input")) box.disabled = locked.has("features");
  $("csv-upload").disabled = locked.has("data");
  $("model-upload").disabled = locked.has("weights");
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
  if (pg.classroom.lock !== null && state.setup) {
    lab.send("lock", pg.classroom.lock.length ? { fields: pg.classroom.lock } : {});
    pg.classroom.lock = null;  // asked once; from now on the server's "locked" says
  }
  if (message.setup || message.locked) applyLocks(state);
  showControls(state, message);
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
    box.addEventListener("change", () => lab.send("toggle_feature", { name, on: box.checked }));
    label.append(name, box);
    return label;
  }));
  optionsFilled = true;
  applyHidden();
}

function showControls(state, message) {
  const setup = state.setup;
  if (!setup) return;
  for (const input of document.querySelectorAll("[data-setup]")) {
    if (document.activeElement === input) continue;
    const value = setup[input.dataset.setup];
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value;
  }
  if (document.activeElement !== $("lr-slider")) $("lr-slider").value = Math.log10(setup.lr);
  for (const box of $("features").querySelectorAll("input")) box.checked = setup.features.includes(box.value);
  if (message.setup || message.locked) showLayers(state);
  const link = shareUrl(state);
  $("share-url").href = link;
  $("share-url").textContent = link;
  $("accuracy-row").hidden = state.task !== "classification";
  showKey(state);
}

// One box per hidden layer: its units (− +) and its activation. Each click sends a change
// relative to the layer as the server has it, so two quick clicks make two changes.
function showLayers(state) {
  const setup = state.setup, locked = pg.locked || new Set();
  const activations = setup.activations.length ? setup.activations : setup.layers.map(() => setup.activation);
  $("units").replaceChildren(...setup.layers.map((size, i) => {
    const span = document.createElement("span");
    const minus = document.createElement("button"), plus = document.createElement("button");
    minus.textContent = "−"; plus.textContent = "+";
    minus.dataset.testid = `pg-units-minus-${i}`; plus.dataset.testid = `pg-units-plus-${i}`;
    minus.setAttribute("aria-label", `one unit fewer in layer ${i + 1}`);
    plus.setAttribute("aria-label", `one unit more in layer ${i + 1}`);
    minus.disabled = locked.has("layers") || size <= 1; plus.disabled = locked.has("layers") || size >= 16;
    minus.addEventListener("click", () => lab.send("change_layer", { layer: i, units_by: -1 }));
    plus.addEventListener("click", () => lab.send("change_layer", { layer: i, units_by: 1 }));
    const menu = document.createElement("select");
    menu.dataset.testid = `pg-layer-activation-${i}`;
    menu.setAttribute("aria-label", `activation of layer ${i + 1}`);
    menu.append(...state.options.activation.map((name) => new Option(name, name)));
    menu.value = activations[i];
    menu.disabled = locked.has("activations");
    menu.addEventListener("change", () => lab.send("change_layer", { layer: i, activation: menu.value }));
    span.append(`layer ${i + 1}: ${size}`, minus, plus, menu);
    return span;
  }));
}

// The output map's key: what its colours and marks mean.
function showKey(state) {
  const key = $("boundary-key");
  const item = (swatch, text) => {
    const span = document.createElement("span"), mark = document.createElement("span");
    mark.className = `swatch ${swatch}`; span.append(mark, text);
    return span;
  };
  const discretized = state.boundary && state.boundary.discretized;
  const items = state.task === "classification"
    ? [...Array(Math.max(2, state.n_classes)).keys()].map((k) => item(`class-${k}`,
      discretized ? `predicted ${k}` : `class ${k}`))
    : discretized ? [item("low", "output ≤ 0"), item("high", "output > 0")]
      : [item("low", "low"), item("high", "high output")];
  items.push(item("train", "train"), item("test", "test"));
  const hint = document.createElement("span");
  hint.textContent = (state.task === "classification" && !discretized ? "deeper colour: higher p · " : "") +
    (state.compare ? "dots: B's boundary · " : "") +
    "click: add a point, shift-click: the other " + (state.task === "classification" ? "class" : "sign") +
    ", alt-click: remove";
  key.replaceChildren(...items, hint);
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
  const mark = $("mark-suggested");
  if (state.suggested_lr) {
    const slider = $("lr-slider"), low = Number(slider.min), high = Number(slider.max);
    const where = (Math.log10(state.suggested_lr) - low) / (high - low);
    mark.style.left = `${Math.min(1, Math.max(0, where)) * 100}%`;
    mark.style.display = "block";
    mark.dataset.value = String(state.suggested_lr);
    mark.title = `suggested: lr ${lab.format(state.suggested_lr)} lowers the loss over the next steps`;
  } else {
    mark.style.display = "none";
    mark.dataset.value = "";
  }
  showConfusion(state.confusion);
  const replay = $("replay"), r = state.replay;
  if (r && document.activeElement !== replay) {
    replay.min = String(r.first);
    replay.max = String(r.latest);
    replay.value = String(state.step);
    replay.setAttribute("aria-valuetext", `step ${state.step} of ${r.latest}`);
  }
  if (r) {
    $("replay-label").textContent = r.viewing
      ? `showing step ${state.step} of ${r.latest}; the steps after it are kept until you branch`
      : `step ${state.step} · back to ${r.first} (${r.snapshots} snapshots, every ${r.every} steps, the rest recomputed)`;
    $("branch").disabled = !r.viewing;
    $("replay-latest").disabled = !r.viewing;
  }
}

function showConfusion(counts) {
  const box = $("confusion");
  if (!counts) { box.replaceChildren(); return; }
  const table = document.createElement("table");
  table.createCaption().textContent = "test set: true class (rows) against predicted (columns)";
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
  const shown = state.replay && state.replay.viewing ? state.step : null;
  pg.drawChart($("loss-canvas"), [
    { column: 2, label: "train" }, { column: 3, label: "test", dash: [5, 4] },
  ], { title: "loss", other: state.compare ? state.compare.rows : null, shown });
  const layers = state.network ? state.network.layers.length : 0;
  pg.drawChart($("norm-canvas"), [...Array(layers).keys()].map((i) => ({
    column: 5 + i, label: i === layers - 1 ? "output layer" : `layer ${i + 1}`,
  })), { title: "‖∂L/∂θ‖", log: true, shown });
  pg.networkTable(state);
  pg.describeCanvases(state);
}

// -- gestures out -----------------------------------------------------------------------
function configure(field, value) { lab.send("configure", { [field]: value }); }

for (const input of document.querySelectorAll("[data-setup]")) {
  input.addEventListener("change", () => {
    const field = input.dataset.setup, current = (lab.last.setup || {})[field];
    if (input.type === "checkbox") { configure(field, input.checked); return; }
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
$("replay-latest").addEventListener("click", () => {
  if (lab.last.replay) lab.send("rewind", { step: lab.last.replay.latest });
});
$("branch").addEventListener("click", () => lab.send("branch"));
$("add-layer").addEventListener("click", () => lab.send("add_layer"));
$("remove-layer").addEventListener("click", () => lab.send("remove_layer"));
spacePlays();

$("boundary-canvas").addEventListener("click", (event) => {
  const state = lab.last, canvas = $("boundary-canvas");
  if (!state.box || (pg.locked && pg.locked.has("data"))) return;
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

// Choose a weight (an edge) or a bias (a unit): it is outlined, named for screen readers,
// offered for editing, and kept for Explain and the loss surface.
pg.select = function (target) {
  if (target && target.input) target = null;
  pg.selected = target;
  if (target) pg.recent = [pg.recent[pg.recent.length - 1], { layer: target.layer, row: target.row, col: target.col }].filter(Boolean);
  $("weight-editor").hidden = !target || Boolean(pg.locked && pg.locked.has("weights"));
  if (target) {
    const layer = lab.last.network.layers[target.layer];  // the weight as it is now
    const value = target.bias ? layer.b[target.row] : layer.W[target.row][target.col];
    $("weight-name").textContent = pg.nameOf(target);
    $("weight-value").value = String(value);
    $("selection").textContent = `${pg.nameOf(target)} chosen: ${lab.format(value)}`;
  } else {
    $("selection").textContent = "no weight chosen";
    $("tooltip").hidden = true;
  }
  pg.requestDraw();
};

$("network-canvas").addEventListener("click", (event) => {
  const rect = $("network-canvas").getBoundingClientRect();
  pg.select(pg.hit(event.clientX - rect.left, event.clientY - rect.top));
});
$("weight-set").addEventListener("click", () => {
  const value = Number($("weight-value").value);
  if (!pg.selected || !Number.isFinite(value)) return;
  lab.send("set_weight", { layer: pg.selected.layer, row: pg.selected.row, col: pg.selected.col, value });
});
$("weight-value").addEventListener("keydown", (event) => {
  if (event.key === "Enter") $("weight-set").click();
  if (event.key === "Escape") $("network-canvas").focus();
});
$("weight-cancel").addEventListener("click", () => pg.select(null));

// (the close-ups, batch modes, A/B and the loss surface are in tools.js; drawing in draw.js;
// tooltips, the keyboard and text alternatives in words.js)

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

// Where the drawn edges, units and labels are (CSS pixels of the network canvas), and the
// weight chosen, for scripts and tests.
lab.targets = () => JSON.parse(JSON.stringify({
  edges: pg.edges, nodes: pg.nodes, units: pg.units, labels: pg.labels,
  selected: pg.selected ? { layer: pg.selected.layer, row: pg.selected.row, col: pg.selected.col, bias: Boolean(pg.selected.bias) } : null,
}));

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
