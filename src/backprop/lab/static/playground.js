// /playground's drawing and controls. Every number comes from the server's state; this
// file maps numbers to pixels and gestures to messages.
"use strict";

(function () {
  const lab = window.backpropLab;
  const $ = (id) => document.getElementById(id);
  const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [44, 160, 44]];
  const POSITIVE = "#0877bd", NEGATIVE = "#f59322";
  let history = [];            // [step, epoch, loss_train, loss_test, acc_test, norm_1..]
  let edges = [];              // drawn edges for hit tests: {layer, row, col, x0, y0, x1, y1}
  let nodes = [];              // drawn units (not inputs) for hit tests: their bias
  let selected = null;         // the weight (edge) or bias (unit) being edited or explained
  let batchModes = null;       // the last side-by-side batch-mode runs
  let recent = [];             // the last two weights clicked, for a slice of the loss surface
  let drawPending = false;
  let optionsFilled = false;
  let fromLink = null;         // setup fields read from the page's URL, sent once
  const classroom = { hide: [], lock: false };

  // -- the page's URL: setup fields, and classroom flags ----------------------------------------
  function readLink() {
    const params = new URLSearchParams(location.search);
    classroom.hide = (params.get("hide") || "").split(",").filter(Boolean);
    classroom.lock = params.get("lock") === "1";
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
    if (classroom.hide.length) params.set("hide", classroom.hide.join(","));
    if (classroom.lock) params.set("lock", "1");
    return `${location.origin}/playground?${params.toString()}`;
  }

  function applyClassroom() {
    for (const element of document.querySelectorAll("[data-control]")) {
      if (classroom.hide.includes(element.dataset.control)) element.classList.add("hidden-by-link");
    }
    if (classroom.lock) {
      for (const element of document.querySelectorAll("[data-setup], #add-layer, #remove-layer, #features input")) {
        element.disabled = true;
      }
    }
  }

  // -- state in ---------------------------------------------------------------------------
  lab.onState.push((state, message) => {
    if (message.history) history = message.history.slice();
    else if (message.history_append) history.push(...message.history_append);
    delete state.history_append;
    state.history = history;
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
    if (message.explanation) showExplanation(message.explanation);
    if (message.gradient_check) showCheck(message.gradient_check);
    if (message.surface) drawSurface(message.surface);
    if (message.batch_modes) { batchModes = message.batch_modes; drawBatchModes(); }
    showComparison(state);
    requestDraw();
  });
  lab.onState.push((state, message) => {
    if (!message.history_append) $("error").textContent = "";
  });
  lab.onError.push((error) => { $("error").textContent = `${error.field}: ${error.message}`; });
  lab.onClose.push((event) => {
    $("status").textContent = event.code === 4000
      ? "session closed after a long time without input: reload the page to start again"
      : "disconnected from the lab server: reload the page to start again";
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
      minus.disabled = classroom.lock || size <= 1; plus.disabled = classroom.lock || size >= 16;
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
  function requestDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; draw(lab.last); });
  }

  function draw(state) {
    if (state.type !== "state") return;
    drawBoundary(state);
    drawNetwork(state);
    drawHistograms(state);
    drawChart($("loss-canvas"), [2, 3], [false, true], false,
      state.compare ? state.compare.rows : null);
    const layers = state.network ? state.network.layers.length : 0;
    drawChart($("norm-canvas"), [...Array(layers).keys()].map((i) => 5 + i), [], true);
  }

  function bytesOf(encoded) {
    const text = atob(encoded);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  // A diverging colour for t in [0, 1]: orange (0), white (½), blue (1).
  function diverging(t) {
    const [low, high] = [CLASS_RGB[0], CLASS_RGB[1]];
    const s = Math.abs(t - 0.5) * 2, end = t < 0.5 ? low : high;
    return [255 + (end[0] - 255) * s, 255 + (end[1] - 255) * s, 255 + (end[2] - 255) * s];
  }

  // The output heat map as an image of size × size cells (row 0 at the top).
  function outputImage(boundary) {
    const size = boundary.size, maps = boundary.maps.map(bytesOf);
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
        rgb = diverging(0.5 + (t - 0.5) * 0.7);
      }
      image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    }
    return image;
  }

  function paintImage(context, image, x, y, width, height) {
    const buffer = document.createElement("canvas");
    buffer.width = image.width; buffer.height = image.height;
    buffer.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(buffer, x, y, width, height);
  }

  function toPixel(box, width, height, x1, x2) {
    return [(x1 - box[0]) / (box[1] - box[0]) * width, (box[3] - x2) / (box[3] - box[2]) * height];
  }

  function pointColor(state, target) {
    if (state.task === "classification") {
      const c = CLASS_RGB[target % 3];
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
    const [low, high] = state.boundary.range;
    const c = diverging(Math.min(1, Math.max(0, (target - low) / (high - low || 1))));
    return `rgb(${c[0] | 0}, ${c[1] | 0}, ${c[2] | 0})`;
  }

  function drawBoundary(state) {
    const canvas = $("boundary-canvas");
    const context = lab.fitCanvas(canvas);
    const width = canvas.clientWidth, height = canvas.clientHeight;
    context.clearRect(0, 0, width, height);
    if (state.boundary) paintImage(context, outputImage(state.boundary), 0, 0, width, height);
    if (state.compare && state.compare.boundary) drawOtherBoundary(context, state.compare.boundary, width, height);
    const box = state.box;
    if (!box || !state.points) return;
    for (const [split, points] of [["train", state.points.train], ["test", state.points.test]]) {
      for (const [x1, x2, target] of points) {
        const [px, py] = toPixel(box, width, height, x1, x2);
        context.beginPath();
        context.arc(px, py, 3.2, 0, 2 * Math.PI);
        context.fillStyle = split === "train" ? pointColor(state, target) : "#fff";
        context.strokeStyle = split === "train" ? "#fff" : pointColor(state, target);
        context.lineWidth = split === "train" ? 1 : 1.8;
        context.fill(); context.stroke();
      }
    }
  }

  function neuronImage(encoded, size) {
    const bytes = bytesOf(encoded), image = new ImageData(size, size);
    for (let i = 0; i < bytes.length; i++) {
      const rgb = diverging(bytes[i] / 255);
      image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    }
    return image;
  }

  function drawNetwork(state) {
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
    edges = [];
    nodes = [];
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
          // the check painted: green within the tolerance, red beyond; width grows with log error
          const error = check.layers[l].W[j][k];
          context.strokeStyle = error <= check.tolerance ? "#15803d" : "#b91c1c";
          context.globalAlpha = 0.9;
          context.lineWidth = 1 + Math.max(0, Math.min(5, (Math.log10(Math.max(error, 1e-16)) + 16) / 3));
        }
        if (selected && selected.layer === l && selected.row === j && selected.col === k) {
          context.strokeStyle = "#111"; context.globalAlpha = 1;
        }
        context.beginPath(); context.moveTo(x0, y0); context.lineTo(x1, y1); context.stroke();
        edges.push({ layer: l, row: j, col: k, x0, y0, x1, y1, value: layer.W[j][k] });
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
          const rgb = diverging(0.5 + 0.5 * Math.max(-1, Math.min(1, d / deltaMax)));
          context.fillStyle = `rgb(${rgb[0] | 0}, ${rgb[1] | 0}, ${rgb[2] | 0})`;
          context.fillRect(x, y, node, node);
          context.fillStyle = "#1d2330"; context.font = "9px system-ui";
          context.fillText(`δ ${lab.format(d, 2)}`, x, y + node + 8);
        } else if (neurons[l] && neurons[l][j]) {
          paintImage(context, neuronImage(neurons[l][j].map, 16), x, y, node, node);
        }
        context.strokeStyle = "#5b6475"; context.lineWidth = 1;
        if (l > 0 && selected && selected.layer === l - 1 && selected.row === j && selected.bias) {
          context.strokeStyle = "#111"; context.lineWidth = 3;
        }
        context.strokeRect(x, y, node, node);
        if (l > 0) nodes.push({ layer: l - 1, row: j, x, y, size: node });
        if (l === 0) {
          context.fillStyle = "#1d2330"; context.font = "11px system-ui";
          context.fillText(picture.inputs[j], 2, y + node / 2 + 4);
        }
      }
    });
    $("network-legend").textContent = backward
      ? "edges: ∂L/∂w (blue +, orange −, width |∂L/∂w|) · units: δ̄ = ∂L/∂b on the training set"
      : "edges: weight (blue +, orange −, width |w|) · units: each one's output · click an edge to edit it";
  }

  // Lines of history columns against the step; log scale for gradient norms.
  // B's rows ([step, train, test]) are drawn in grey under A's when given.
  function drawChart(canvas, columns, dashed, logScale, other) {
    const context = lab.fitCanvas(canvas);
    const width = canvas.clientWidth, height = canvas.clientHeight;
    context.clearRect(0, 0, width, height);
    if (history.length < 1 || !columns.length) return;
    const f = (v) => (logScale ? Math.log10(Math.max(v, 1e-12)) : v);
    let low = Infinity, high = -Infinity;
    for (const row of history) for (const c of columns) {
      if (row[c] !== null && row[c] !== undefined) { low = Math.min(low, f(row[c])); high = Math.max(high, f(row[c])); }
    }
    for (const row of other || []) for (const c of [1, 2]) {
      if (row[c] !== null && row[c] !== undefined) { low = Math.min(low, f(row[c])); high = Math.max(high, f(row[c])); }
    }
    if (!Number.isFinite(low)) return;
    if (!logScale) low = Math.min(low, 0);
    if (high - low < 1e-9) high = low + 1;
    const lastStep = Math.max(1, history[history.length - 1][0]);
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
      for (const row of history) {
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
  $("view").addEventListener("change", requestDraw);
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
    if (!state.box || classroom.lock) return;
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
    for (const unit of nodes) {
      if (x >= unit.x && x <= unit.x + unit.size && y >= unit.y && y <= unit.y + unit.size) {
        const layer = lab.last.network.layers[unit.layer];
        best = { layer: unit.layer, row: unit.row, col: layer.W[0].length, bias: true, value: layer.b[unit.row] };
        bestDistance = -1;
      }
    }
    for (const edge of bestDistance < 0 ? [] : edges) {
      const dx = edge.x1 - edge.x0, dy = edge.y1 - edge.y0;
      const t = Math.max(0, Math.min(1, ((x - edge.x0) * dx + (y - edge.y0) * dy) / (dx * dx + dy * dy)));
      const distance = Math.hypot(edge.x0 + t * dx - x, edge.y0 + t * dy - y);
      if (distance < bestDistance) { best = edge; bestDistance = distance; }
    }
    selected = best;
    if (best) recent = [recent[recent.length - 1], { layer: best.layer, row: best.row, col: best.col }].filter(Boolean);
    $("weight-editor").hidden = !best || classroom.lock;
    if (best) {
      $("weight-name").textContent = best.bias ? `b of layer ${best.layer + 1}, unit ${best.row + 1}`
        : `w of layer ${best.layer + 1}, unit ${best.row + 1} ← input ${best.col + 1}`;
      const layer = lab.last.network.layers[best.layer];  // the weight as it is now
      $("weight-value").value = String(best.bias ? layer.b[best.row] : layer.W[best.row][best.col]);
    }
    requestDraw();
  });
  $("weight-set").addEventListener("click", () => {
    const value = Number($("weight-value").value);
    if (!selected || !Number.isFinite(value)) return;
    lab.send("set_weight", { layer: selected.layer, row: selected.row, col: selected.col, value });
  });
  $("weight-cancel").addEventListener("click", () => { selected = null; $("weight-editor").hidden = true; requestDraw(); });

  // -- close-ups: explain a weight, histograms, the gradient check ------------------------------
  $("explain").addEventListener("click", () => {
    if (!selected) { $("error").textContent = "explain: click an edge (a weight) or a unit (its bias) first"; return; }
    const text = $("explain-point").value.trim();
    const fields = { layer: selected.layer, row: selected.row, col: selected.col };
    if (text !== "") fields.point = Number(text);
    lab.send("explain", fields);
  });
  $("gradient-check").addEventListener("click", () => lab.send("gradient_check"));
  $("paint-check").addEventListener("change", requestDraw);

  function cellRow(table, cells, header) {
    const row = table.insertRow();
    for (const cell of cells) {
      const element = document.createElement(header ? "th" : "td");
      if (typeof cell === "number") { element.textContent = lab.format(cell); element.dataset.value = String(cell); }
      else element.textContent = cell;
      row.append(element);
    }
  }

  function line(text, testid, value) {
    const p = document.createElement("p");
    p.textContent = text;
    if (testid) { p.dataset.testid = testid; p.dataset.value = String(value); }
    return p;
  }

  function showExplanation(e) {
    const box = $("explanation");
    const bias = e.name === "b";
    const symbol = bias ? `b${e.row + 1}` : `w${e.row + 1},${e.col + 1}`;
    const table = document.createElement("table");
    cellRow(table, bias ? ["point", "δ_j", "∂ℓ/∂b = δ_j"] : ["point", "δ_j", "a_k", "δ_j · a_k"], true);
    e.rows.forEach((index, i) => {
      cellRow(table, bias ? [index, e.deltas[i], e.per_sample[i]]
        : [index, e.deltas[i], e.inputs[i], e.per_sample[i]], false);
    });
    const parts = [
      line(`${symbol} of layer ${e.layer + 1} at step ${e.step}, on ${e.point === null ? `the next batch (${e.rows.length} points)` : `training point ${e.point}`}:`),
      table,
      line(`ḡ = (1/${e.rows.length}) Σ = ${lab.format(e.mean)}   (central difference: ${lab.format(e.numeric)}, relative error ${lab.format(e.relative_error, 2)})`, "pg-explain-mean", e.mean),
      line(`L2 term λ·w = ${lab.format(e.l2)} × ${lab.format(e.w)} = ${lab.format(e.l2_term)}`, "pg-explain-l2", e.l2_term),
      line(`plain gradient descent, w ← w − η·(ḡ + λw) = ${lab.format(e.w)} − ${lab.format(e.lr)} × ${lab.format(e.mean + e.l2_term)} = ${lab.format(e.plain_update)}`, "pg-explain-plain", e.plain_update),
    ];
    if (e.optimizer_update !== null) {
      parts.push(line(`${e.optimizer} takes the step: ${symbol} becomes ${lab.format(e.optimizer_update)}` +
        (e.dropout ? " (with this step's dropout mask, which the worked step leaves out)" : ""), "pg-explain-update", e.optimizer_update));
    }
    box.replaceChildren(...parts);
  }

  function showCheck(check) {
    lab.setText("pg-check-verdict", check.passed ? "PASS" : "FAIL");
    $("check-verdict").className = check.passed ? "status good" : "status bad";
    $("check-verdict").dataset.value = String(check.max_error);
    $("check-report").textContent = `largest relative error per entry: ${lab.format(check.max_error, 3)} on ${check.points} points, step ${check.step}\n${check.report}`;
  }

  function drawHistograms(state) {
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
  }

  // B's decision boundary: a dot in each cell where its output crosses ½ (or, for
  // three classes, where the most likely class changes), drawn over A's heat map.
  function drawOtherBoundary(context, boundary, width, height) {
    const size = boundary.size, maps = boundary.maps.map(bytesOf);
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
  }

  // -- batch modes and A/B ------------------------------------------------------------------
  $("batch-modes").addEventListener("click", () => {
    lab.send("batch_modes", { epochs: Number($("batch-epochs").value) || 10 });
  });
  $("batch-axis").addEventListener("change", () => drawBatchModes());

  function drawBatchModes() {
    const canvas = $("batch-canvas");
    const context = lab.fitCanvas(canvas);
    const width = canvas.clientWidth, height = canvas.clientHeight;
    context.clearRect(0, 0, width, height);
    if (!batchModes) return;
    const byEpoch = $("batch-axis").value === "epochs", column = byEpoch ? 1 : 0;
    const colors = ["#c2410c", "#2f6fdf", "#15803d"];
    let right = 1e-9, low = Infinity, high = -Infinity;
    for (const mode of batchModes.modes) for (const row of mode.rows) {
      right = Math.max(right, row[column]);
      if (row[2] !== null) { low = Math.min(low, row[2]); high = Math.max(high, row[2]); }
    }
    low = Math.min(0, low); if (high - low < 1e-9) high = low + 1;
    // updates span orders of magnitude between the modes: a log axis shows all three
    const x = (v) => 30 + (byEpoch ? v / right : Math.log10(1 + v) / Math.log10(1 + right)) * (width - 40);
    batchModes.modes.forEach((mode, i) => {
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
    $("batch-legend").textContent = batchModes.modes.map((mode, i) =>
      `${["orange", "blue", "green"][i]}: ${mode.mode} (${mode.updates_per_epoch} updates per epoch)` +
      (mode.diverged ? ` — ${mode.diverged}` : "")).join(" · ");
  }

  $("compare").addEventListener("click", () => {
    const field = $("compare-field").value, text = $("compare-value").value.trim();
    const current = (lab.last.setup || {})[field];
    let value = text;
    if (field === "layers") value = text === "" ? [] : text.split(",").map(Number);
    else if (typeof current === "number") value = Number(text);
    lab.send("compare", { [field]: value });
  });
  $("compare-stop").addEventListener("click", () => lab.send("stop_compare"));

  function showComparison(state) {
    const compare = state.compare, last = compare ? compare.rows[compare.rows.length - 1] : null;
    lab.setReadout("pg-compare-step", compare ? compare.step : null);
    lab.setReadout("pg-compare-loss-train", last ? last[1] : null);
    lab.setReadout("pg-compare-loss-test", last ? last[2] : null);
    $("compare-a-step").textContent = lab.format(state.step);
    $("compare-a-train").textContent = lab.format(state.loss_train);
    $("compare-a-test").textContent = lab.format(state.loss_test);
    $("compare-label").textContent = compare
      ? `B = A with ${Object.entries(compare.changes).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(",") : v}`).join(", ")}` +
        (compare.diverged ? ` — ${compare.diverged}` : "")
      : "no B running";
  }

  // -- the loss surface -------------------------------------------------------------------
  $("surface").addEventListener("click", () => {
    const fields = { mode: $("surface-mode").value, span: Number($("surface-span").value) || 1,
      seed: Number($("surface-seed").value) || 0 };
    if (fields.mode === "weights") {
      if (recent.length < 2) { $("error").textContent = "surface: click two weights (edges or units) first"; return; }
      fields.first = recent[0]; fields.second = recent[1];
    }
    lab.send("surface", fields);
  });

  // Dark blue (low loss) to yellow (high), on log L.
  function lossColor(t) {
    const stops = [[48, 18, 59], [33, 145, 140], [253, 231, 37]];
    const x = Math.min(1, Math.max(0, t)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    return stops[i].map((c, n) => c + (stops[i + 1][n] - c) * f);
  }

  function drawSurface(result) {
    const canvas = $("surface-canvas");
    const context = lab.fitCanvas(canvas);
    const width = canvas.clientWidth, height = canvas.clientHeight, size = result.size;
    context.clearRect(0, 0, width, height);
    if (!result.range) return;
    const low = Math.log10(Math.max(result.range[0], 1e-12)), high = Math.log10(Math.max(result.range[1], 1e-12));
    const image = new ImageData(size, size);
    result.losses.forEach((loss, i) => {
      const rgb = loss === null ? [255, 255, 255] : lossColor((Math.log10(Math.max(loss, 1e-12)) - low) / (high - low || 1));
      image.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    });
    paintImage(context, image, 0, 0, width, height);
    const toPixel = ([a, b]) => [(a + result.span) / (2 * result.span) * width, (result.span - b) / (2 * result.span) * height];
    context.strokeStyle = "#fff"; context.lineWidth = 1.5;
    context.beginPath();
    result.path.forEach((point, i) => {
      const [x, y] = toPixel(point);
      if (i) context.lineTo(x, y); else context.moveTo(x, y);
    });
    context.stroke();
    for (const point of result.path) {
      const [x, y] = toPixel(point);
      context.fillStyle = "#fff"; context.fillRect(x - 1.5, y - 1.5, 3, 3);
    }
    const [cx, cy] = toPixel([0, 0]);
    context.fillStyle = "#b91c1c"; context.beginPath(); context.arc(cx, cy, 4, 0, 2 * Math.PI); context.fill();
    $("surface-label").textContent = `${result.mode === "weights" ? "two weights' axes" : "filter-normalised random directions"}, ` +
      `±${lab.format(result.span)}, at step ${result.step}: L from ${lab.format(result.range[0], 4)} to ${lab.format(result.range[1], 4)} (log colour scale)`;
    $("surface-label").dataset.value = String(result.range[0]);
  }

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

  function saveFile(message) {
    const body = message.base64 !== undefined ? bytesOf(message.base64) : message.text;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([body], { type: message.mime }));
    link.download = message.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // Where the drawn edges and units are (CSS pixels of the network canvas), for scripts and tests.
  lab.targets = () => JSON.parse(JSON.stringify({ edges, nodes }));

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
    saveFile(message);
  });
  window.addEventListener("resize", requestDraw);
})();
