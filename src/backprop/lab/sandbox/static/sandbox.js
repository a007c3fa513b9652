// /sandbox: draws the network the server describes (every number comes from Python:
// bp.explain's trace, the engine's step, gradcheck) and sends the learner's edits.

import { $, lab, saveFile } from "../common.js";

let selected = null;   // the data-entry of the number whose equation is shown
let focus = null;      // "L-J": the unit whose edges keep their numbers in a crowded layer
//: A layer with more edges than this shows edge numbers only around the focused unit.
const CROWDED = 9;
let editing = null;    // {layer, name, unit, source} of the parameter being edited
let network = null;    // the server's count of networks: a new one drops what the old had
const typed = {};      // "check my answer": the learner's numbers as typed, by key
let inputsFor = null;  // the asked keys the answer inputs were built for
const EXPLAIN = { title: $("sb-explain-title").textContent, text: $("sb-explain").textContent };
//: How the tag before a number, and the list of equations, write each equation's label.
const TAG = { forward: "f", update: "u" };

// -- readouts ---------------------------------------------------------------------
// A number element: short text, full value in data-value, clickable for its equation.
function number(testid, value, entry, extraClass) {
  const span = document.createElement("span");
  span.className = "num sb-click" + (extraClass ? " " + extraClass : "");
  span.setAttribute("data-testid", testid);
  span.textContent = lab.format(value);
  span.dataset.value = value === null || value === undefined ? "" : String(value);
  if (entry) span.dataset.entry = entry;
  return span;
}

function signClass(value) {
  return value > 0 ? "sb-pos" : value < 0 ? "sb-neg" : "";
}

// The keys the learner is working out ("check my answer"), whose numbers the page hides.
function askedKeys(state) {
  return new Set(state.answer && state.answer.on ? state.answer.asked : []);
}

// A number the learner is working out: a question mark, no value.
function asked(testid, entry) {
  const span = document.createElement("span");
  span.className = "num sb-click sb-asked";
  span.setAttribute("data-testid", testid);
  span.textContent = "?";
  span.dataset.value = "";
  span.dataset.entry = entry;
  span.title = "you are working this one out (check my answer)";
  return span;
}

// The tag of the equation that gives the number with this id: "(2)", "(f)", ...
function tag(state, id) {
  const label = state.labels[id] ? state.labels[id].equation : null;
  if (!label) return null;
  const element = document.createElement("span");
  element.className = "sb-tag";
  element.dataset.equation = label;
  element.setAttribute("data-testid", `sb-tag-${id}`);
  element.textContent = `(${TAG[label] || label})`;
  element.title = state.equations.find((e) => e.label === label).text;
  return element;
}

// Under a broken rule, the value it gives for this number, to sit beside the right one.
function wrong(state, id, hidden) {
  if (!state.broken || hidden.has(id)) return null;
  const value = state.broken.values[id];
  if (value === undefined) return null;
  const span = number(`sb-wrong-${id}`, value, null, "sb-wrong");
  span.textContent = `✗ ${lab.format(value)}`;
  span.title = `what the broken rule ${state.broken.rule} gives; the right value is beside it`;
  return span;
}

// The class of an edge the check graded (the grade, and its thresholds, are the server's).
function errorClass(edge) {
  return edge ? `sb-${edge.grade}` : "";
}

const ERROR_COLOURS = { "sb-ok": "#15803d", "sb-warn": "#d97706", "sb-bad": "#dc2626",
  "sb-kink": "#7c3aed" };

// -- the drawing ----------------------------------------------------------------------
function layout(state, width, height) {
  const widths = state.architecture.widths;
  const columns = widths.length;
  const left = 95, right = 150;
  return widths.map((n, l) => {
    const x = left + (columns === 1 ? 0 : l * (width - left - right) / (columns - 1));
    const gap = Math.min(120, (height - 40) / n);
    const top = height / 2 - gap * (n - 1) / 2;
    return Array.from({ length: n }, (_, j) => ({ x, y: top + j * gap }));
  });
}

// Where on its edge a label overlaps the fewest boxes already placed (fractions t of
// the edge from its source; the middle first).
const PLACES = [0.5, 0.4, 0.6, 0.3, 0.7, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75, 0.2, 0.8];

function overlap(a, b) {
  const x = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const y = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return x > 0 && y > 0 ? x * y : 0;
}

function place(label, from, to, boxes) {
  const w = label.offsetWidth + 4, h = label.offsetHeight + 2;
  let best = null;
  for (const t of PLACES) {
    const box = { x: from.x + t * (to.x - from.x) - w / 2, y: from.y + t * (to.y - from.y) - h / 2, w, h };
    const cost = boxes.reduce((sum, other) => sum + overlap(box, other), 0);
    if (!best || cost < best.cost) best = { box, cost };
    if (cost === 0) break;
  }
  label.style.left = `${best.box.x + w / 2}px`;
  label.style.top = `${best.box.y + h / 2}px`;
  boxes.push(best.box);
}

function draw(state) {
  const canvas = $("sb-canvas");
  const most = Math.max(...state.architecture.widths);
  const lines = 3 + (state.architecture.bias ? 2 : 0) + (state.check ? 1 : 0);
  canvas.style.height = `${Math.max(300, most * (lines * 14 + 12) + 40)}px`;
  const context = lab.fitCanvas(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  const spots = layout(state, width, height);
  const hidden = askedKeys(state);
  const labels = $("sb-labels");
  labels.replaceChildren();
  const check = state.check && state.check.edges && Object.keys(state.check.edges).length
    ? state.check : null;
  let largest = 1e-12;
  for (const layer of state.layers) for (const row of layer.W) for (const w of row) {
    largest = Math.max(largest, Math.abs(w));
  }
  // edges: colour by sign (or by the check's error), thickness by |w|
  for (const layer of state.layers) {
    const below = spots[layer.layer - 1], above = spots[layer.layer];
    layer.W.forEach((row, j) => row.forEach((w, k) => {
      const edge = check ? check.edges[`w-${layer.layer}-${j + 1}-${k + 1}`] : null;
      context.strokeStyle = edge ? ERROR_COLOURS[errorClass(edge)]
        : w >= 0 ? "rgba(37,99,235,0.75)" : "rgba(220,38,38,0.75)";
      context.lineWidth = 0.6 + 4.5 * Math.abs(w) / largest;
      context.setLineDash(edge && edge.kink ? [5, 4] : []);
      context.beginPath();
      context.moveTo(below[k].x, below[k].y);
      context.lineTo(above[j].x, above[j].y);
      context.stroke();
    }));
  }
  context.setLineDash([]);
  // neurons: inputs, then each layer's units with z, a, δ (and b, ∂L/∂b)
  const boxes = [];
  const x = state.X[state.sample - 1];
  spots.forEach((column, l) => column.forEach((spot, j) => {
    const layer = l > 0 ? state.layers[l - 1] : null;
    const a = layer ? layer.a[j] : x[j];
    context.fillStyle = a >= 0 ? `rgba(37,99,235,${0.15 + 0.6 * Math.min(1, Math.abs(a))})`
      : `rgba(220,38,38,${0.15 + 0.6 * Math.min(1, Math.abs(a))})`;
    context.strokeStyle = "#1d2330";
    context.lineWidth = 1;
    context.beginPath();
    context.arc(spot.x, spot.y, 13, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
    boxes.push({ x: spot.x - 14, y: spot.y - 14, w: 28, h: 28 });
    const label = document.createElement("div");
    label.className = "sb-label sb-unit";
    label.style.left = `${spot.x + (layer ? 17 : -17)}px`;
    label.style.top = `${spot.y}px`;
    if (!layer) {
      label.classList.add("sb-input");
      label.append(`x${j + 1} `, number(`sb-x-${state.sample}-${j + 1}`, a, null));
    } else {
      const id = `${l}-${j + 1}`;
      const rows = [["z", layer.z[j], `z-${id}`, `sb-z-${id}`, `z-${id}`],
        ["a", layer.a[j], `a-${id}`, `sb-a-${id}`, `a-${id}`],
        ["δ", layer.delta[j], `d-${id}`, `sb-d-${id}`, `d-${id}`]];
      if (layer.b) {
        rows.push(["b", layer.b[j], `ub-${id}`, `sb-b-${id}`, null],
          ["∂b", layer.db[j], `gb-${id}`, `sb-gb-${id}`, `gb-${id}`]);
      }
      rows.forEach(([name, value, entry, testid, key], i) => {
        if (i) label.append(document.createElement("br"));
        const readout = key && hidden.has(key) ? asked(testid, entry)
          : number(testid, value, entry, name === "δ" ? signClass(value) : "");
        if (name === "b") Object.assign(readout.dataset, { layer: l, name: "b", unit: j + 1 });
        label.append(`${name} `);
        const equation = key ? tag(state, key) : null;
        if (equation) label.append(equation, " ");
        label.append(readout);
        const other = key ? wrong(state, key, hidden) : null;
        if (other) label.append(" ", other);
      });
      const edge = check && layer.b ? check.edges[`b-${id}`] : null;
      if (edge) {
        label.append(document.createElement("br"), "err ",
          number(`sb-eb-${id}`, edge.relative_error, `gb-${id}`, errorClass(edge)));
      }
    }
    labels.append(label);
    const w = label.offsetWidth, h = label.offsetHeight;
    boxes.push({ x: layer ? spot.x + 17 : spot.x - 17 - w, y: spot.y - h / 2, w, h });
  }));
  // each edge's w and ∂L/∂w (and the check's relative error), where it overlaps least
  for (const layer of state.layers) {
    const below = spots[layer.layer - 1], above = spots[layer.layer];
    const crowded = layer.n_in * layer.n_out > CROWDED && !$("sb-all-edges").checked;
    layer.W.forEach((row, j) => row.forEach((w, k) => {
      const id = `${layer.layer}-${j + 1}-${k + 1}`;
      const edge = check ? check.edges[`w-${id}`] : null;
      const label = document.createElement("div");
      label.className = "sb-label";
      const weight = number(`sb-w-${id}`, w, `u-${id}`, signClass(w));
      Object.assign(weight.dataset, { layer: layer.layer, name: "W", unit: j + 1, source: k + 1 });
      const gradient = hidden.has(`g-${id}`) ? asked(`sb-g-${id}`, `g-${id}`)
        : number(`sb-g-${id}`, layer.dW[j][k], `g-${id}`, "sb-g");
      label.append(weight, " ", tag(state, `g-${id}`) || "", gradient);
      const other = wrong(state, `g-${id}`, hidden);
      if (other) label.append(" ", other);
      if (edge) {
        const error = number(`sb-e-${id}`, edge.relative_error, `g-${id}`,
          "sb-err " + errorClass(edge));
        error.title = `relative error; numeric ${edge.numeric}, backprop ${edge.analytic}`;
        label.append(error);
      }
      labels.append(label);
      if (crowded && focus !== `${layer.layer}-${j + 1}` && focus !== `${layer.layer - 1}-${k + 1}`) {
        label.classList.add("sb-hidden");  // kept for scripts, not drawn
      } else {
        place(label, below[k], above[j], boxes);
      }
    }));
  }
  markSelected();
}

// -- the panels -------------------------------------------------------------------------
function fillSelect(select, values, labelOf) {
  const wanted = values.join("\n");
  if (select.dataset.options === wanted) return;
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = labelOf ? labelOf(value) : value;
    return option;
  }));
  select.dataset.options = wanted;
}

function setIfIdle(input, value) {
  if (document.activeElement !== input) input.value = value;
}

function showBatch(state) {
  const table = $("sb-batch");
  const rows = [];
  state.X.forEach((x, i) => {
    const row = document.createElement("tr");
    const index = i + 1;
    const pick = document.createElement("input");
    Object.assign(pick, { type: "radio", name: "sb-sample", checked: index === state.sample });
    pick.setAttribute("data-testid", `sb-sample-${index}`);
    pick.addEventListener("change", () => lab.send("select_sample", { index }));
    const xs = document.createElement("input");
    xs.value = x.join(", ");
    xs.setAttribute("data-testid", `sb-x-${index}`);
    const ys = document.createElement("input");
    ys.value = state.Y[i].join(", ");
    ys.setAttribute("data-testid", `sb-y-${index}`);
    const send = () => {
      const parsed = [numbers(xs.value, "x"), numbers(ys.value, "y")];
      if (parsed[0] && parsed[1]) lab.send("set_sample", { index, x: parsed[0], y: parsed[1] });
    };
    xs.addEventListener("change", send);
    ys.addEventListener("change", send);
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.setAttribute("data-testid", `sb-remove-${index}`);
    remove.disabled = state.X.length === 1;
    remove.addEventListener("click", () => lab.send("remove_sample", { index }));
    const cells = [pick, `sample ${index}`, "x", xs, "y", ys, remove].map((content) => {
      const cell = document.createElement("td");
      cell.append(content);
      return cell;
    });
    row.append(...cells);
    rows.push(row);
  });
  table.replaceChildren(...rows);
  $("sb-add-sample").disabled = state.X.length >= state.options.max_samples;
}

// Numbers typed as "0.35, 0.9"; null (and an error shown) when a part is not a number.
function numbers(text, field) {
  const parts = text.split(/[\s,]+/).filter((part) => part.length);
  const values = parts.map(Number);
  const bad = parts.find((part, i) => !Number.isFinite(values[i]));
  if (bad !== undefined || !parts.length) {
    $("sb-error").textContent = bad === undefined ? `Give the ${field} as numbers, such as 0.35, 0.9.`
      : `In the ${field}, “${bad}” is not a number.`;
    return null;
  }
  return values;
}

// The legend of the check's grades ("≤ 1e-06", ...), as the server grades the edges.
function showGrades(grades) {
  const parts = [];
  grades.forEach((entry, i) => {
    const span = document.createElement("span");
    span.className = `sb-${entry.grade}`;
    span.textContent = entry.text;
    if (i) parts.push(", ");
    parts.push(span);
  });
  $("sb-grades").replaceChildren(...parts);
}

function showCheck(state) {
  const check = state.check;
  const verdict = $("sb-check-verdict");
  verdict.textContent = check ? check.verdict : "—";
  verdict.className = "status " + (!check ? "" : check.verdict === "PASS" ? "good"
    : check.verdict === "FAIL" ? "bad" : "warn");
  $("sb-check-rule").textContent = check
    ? `rule: ${check.rule}; ${check.samples} sample${check.samples > 1 ? "s" : ""}; ` +
      `tolerance ${check.tolerance}, h = ${check.step}` : "press Check";
  $("sb-check-error").textContent = check && check.error ? check.error : "";
  const table = $("sb-check-table");
  const rows = [];
  if (check && check.tensors.length) {
    const head = document.createElement("tr");
    for (const name of ["layer", "", "rel. error", "max |Δ|", "kinks", "result"]) {
      const cell = document.createElement("th");
      cell.textContent = name;
      head.append(cell);
    }
    rows.push(head);
    for (const t of check.tensors) {
      const row = document.createElement("tr");
      const id = `${t.layer}-${t.name}`;
      const cells = [String(t.layer), t.name,
        number(`sb-check-error-${id}`, t.relative_error, null, t.passed ? "sb-ok" : "sb-bad"),
        number(`sb-check-max-${id}`, t.max_abs_error, null), String(t.kink_entries), t.result];
      for (const content of cells) {
        const cell = document.createElement("td");
        cell.append(content);
        row.append(cell);
      }
      rows.push(row);
    }
  }
  table.replaceChildren(...rows);
  const warnings = check ? check.warnings : [];
  $("sb-check-warnings").replaceChildren(...warnings.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
}

function showLastStep(state) {
  const table = $("sb-last-step");
  const step = state.last_step;
  if (!step) {
    table.replaceChildren();
    return;
  }
  const rows = Object.entries(step).map(([id, [old, now]]) => {
    const row = document.createElement("tr");
    const name = state.labels[id] ? state.labels[id].name : id;
    const cells = [name, number(`sb-old-${id}`, old, null), "→", number(`sb-new-${id}`, now, null)];
    for (const content of cells) {
      const cell = document.createElement("td");
      cell.append(content);
      row.append(cell);
    }
    return row;
  });
  table.replaceChildren(...rows);
}

function markSelected() {
  for (const element of document.querySelectorAll(".sb-selected")) {
    element.classList.remove("sb-selected");
  }
  if (!selected) return;
  for (const element of document.querySelectorAll(`[data-entry="${selected}"]`)) {
    element.classList.add("sb-selected");
  }
}

// The key of the answer a clicked number is ("u-…", the update line of w, is "w-…").
function answerKey(entry) {
  return entry.replace(/^u-/, "w-").replace(/^ub-/, "b-");
}

function showEntry(state) {
  if (!selected || (!state.texts[selected] && !state.labels[answerKey(selected)])) {
    selected = null;
    $("sb-explain-title").textContent = EXPLAIN.title;
    $("sb-explain").textContent = EXPLAIN.text;
    markEquation(null);
    return;
  }
  const label = state.labels[answerKey(selected)];
  markEquation(label ? label.equation : null);
  $("sb-explain-title").textContent = "The worked step's line for this number";
  if (askedKeys(state).has(answerKey(selected))) {
    const equation = state.equations.find((e) => e.label === label.equation);
    $("sb-explain").textContent = `You are working out ${label.name}: ` +
      `${label.equation.length === 1 ? `equation (${label.equation})` : `the ${label.equation}`}` +
      `, ${equation.text}, gives it.`;
    return;
  }
  $("sb-explain").textContent = state.texts[selected] || "(no line of the worked step for this number)";
}

// -- the four equations -----------------------------------------------------------------
function showEquations(state) {
  const list = $("sb-equations");
  const wanted = JSON.stringify(state.equations);
  if (list.dataset.shown !== wanted) {
    list.replaceChildren(...state.equations.map((equation) => {
      const item = document.createElement("li");
      item.dataset.equation = equation.label;
      item.setAttribute("data-testid", `sb-equation-${equation.label}`);
      const label = document.createElement("span");
      label.className = "sb-tag";
      label.textContent = `(${TAG[equation.label] || equation.label})`;
      const text = document.createElement("code");
      text.textContent = equation.text;
      const role = document.createElement("div");
      role.className = "formula";
      role.textContent = equation.role + (equation.note ? `; ${equation.note}` : "");
      item.append(label, " ", text, role);
      return item;
    }));
    list.dataset.shown = wanted;
  }
}

function markEquation(label) {
  for (const item of $("sb-equations").children) {
    item.classList.toggle("sb-eq-on", item.dataset.equation === label);
  }
}

// -- check my answer ------------------------------------------------------------------------
function showAnswers(state) {
  const answer = state.answer;
  $("sb-answer-mode").checked = answer.on;
  $("sb-answers").hidden = !answer.on;
  for (const box of document.querySelectorAll("#sb-answers [data-kind]")) {
    box.checked = answer.ask.includes(box.dataset.kind);
    box.disabled = box.dataset.kind === "gb" && !state.architecture.bias;  // no biases
  }
  const layers = $("sb-answer-layers");
  if (layers.children.length !== state.layers.length) {
    layers.replaceChildren(...state.layers.map((layer) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.layer = layer.layer;
      box.setAttribute("data-testid", `sb-answer-layer-${layer.layer}`);
      box.addEventListener("change", sendAnswerMode);
      label.append(box, ` ${layer.layer}`);
      return label;
    }));
  }
  for (const box of layers.querySelectorAll("input")) {
    box.checked = answer.layers === null || answer.layers.includes(Number(box.dataset.layer));
  }
  const keys = answer.asked.join(",");
  if (keys !== inputsFor) {
    buildInputs(state);
    inputsFor = keys;
  }
  for (const input of $("sb-answer-inputs").querySelectorAll("input[data-key]")) {
    const key = input.dataset.key;
    const verdict = answer.verdicts[key];
    // a verdict belongs to the text it judged: editing the answer since clears it
    if (verdict && (typed[key] || "").trim() === answer.given[key]) {
      input.dataset.verdict = verdict.verdict;
      input.title = verdict.message || `${state.labels[key].name}: right`;
    } else {
      delete input.dataset.verdict;
      input.title = state.labels[key].name;
    }
  }
  $("sb-answer-status").textContent = answer.summary || "";
  $("sb-answer-status").className = "status " + (!answer.checked ? ""
    : Object.values(answer.verdicts).every((v) => v.verdict === "right") && answer.summary
      && Object.keys(answer.verdicts).length ? "good" : "warn");
  $("sb-answer-refusals").replaceChildren(...answer.refusals.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  $("sb-answer-hint").textContent = answer.hint || "";
}

// The inputs of the asked numbers, layer by layer from the output down: δ, ∂L/∂b, ∂L/∂w (as
// the matrix it is), then w and b after the step.
function buildInputs(state) {
  const groups = new Map();
  for (const key of state.answer.asked) {
    const [kind, layer, unit, source] = key.split("-");
    if (!groups.has(layer)) groups.set(layer, new Map());
    const kinds = groups.get(layer);
    if (!kinds.has(kind)) kinds.set(kind, []);
    kinds.get(kind).push({ key, unit: Number(unit), source: source ? Number(source) : null });
  }
  const titles = { d: ["δ_j", ""], gb: ["∂L/∂b_j", ""], g: ["∂L/∂w_jk", ""],
    w: ["w_jk", " after the step"], b: ["b_j", " after the step"] };
  const blocks = [];
  for (const [layer, kinds] of groups) {
    const block = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = `layer ${layer}` + (Number(layer) === state.layers.length ? " (output)" : "");
    block.append(legend);
    const table = document.createElement("table");
    for (const [kind, entries] of kinds) {
      const rows = new Map();
      for (const entry of entries) {
        if (!rows.has(entry.unit)) rows.set(entry.unit, []);
        rows.get(entry.unit).push(entry);
      }
      const matrix = kind === "g" || kind === "w";
      [...(matrix ? rows.values() : [entries])].forEach((row, i) => {
        const tr = document.createElement("tr");
        const head = document.createElement("th");
        if (!i) {
          head.append(`${titles[kind][0]}^[${layer}]${titles[kind][1]} `);
          const equation = tag(state, row[0].key);
          if (equation) head.append(equation);
        }
        tr.append(head);
        for (const entry of row) {
          const cell = document.createElement("td");
          cell.append(answerInput(state, entry.key));
          tr.append(cell);
        }
        table.append(tr);
      });
    }
    block.append(table);
    blocks.push(block);
  }
  $("sb-answer-inputs").replaceChildren(...blocks);
}

function answerInput(state, key) {
  const input = document.createElement("input");
  input.dataset.key = key;
  input.setAttribute("data-testid", `sb-answer-${key}`);
  input.placeholder = state.labels[key].name;
  input.setAttribute("aria-label", state.labels[key].name);
  input.autocomplete = "off";
  input.spellcheck = false;
  input.value = typed[key] || "";
  input.addEventListener("input", () => {
    typed[key] = input.value;
    delete input.dataset.verdict;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") submitAnswers();
  });
  return input;
}

function sendAnswerMode() {
  const kinds = [...document.querySelectorAll("#sb-answers [data-kind]")]
    .filter((box) => box.checked).map((box) => box.dataset.kind);
  const ask = kinds.flatMap((kind) => (kind === "w" ? ["w", "b"] : [kind]));
  const layers = [...$("sb-answer-layers").querySelectorAll("input")]
    .filter((box) => box.checked).map((box) => Number(box.dataset.layer));
  const on = $("sb-answer-mode").checked;
  if (on && lab.last.answer.on && (!kinds.length || !layers.length)) {
    $("sb-error").textContent = !kinds.length ? "Tick at least one kind of number to work out."
      : "Tick at least one layer to work out.";
    showAnswers(lab.last);
    return;
  }
  lab.send("answer_mode", lab.last.answer.on ? { on, ask, layers: layers.length ? layers : null }
    : { on });
}

function submitAnswers() {
  const answers = {};
  for (const key of lab.last.answer.asked) {
    const text = (typed[key] || "").trim();
    if (text) answers[key] = text;
  }
  lab.send("answers", { answers });
}

function render(state) {
  if (state.network !== network) {  // a new network: what was typed and chosen was the old one's
    network = state.network;
    selected = null;
    focus = null;
    for (const key of Object.keys(typed)) delete typed[key];
    inputsFor = null;
  }
  $("sb-preset").value = state.preset;
  setIfIdle($("sb-lr"), state.lr);
  fillSelect($("sb-break"), Object.keys(state.rules),
    (rule) => rule === "none" ? "none (the right rule)" : `${rule} (wrong)`);
  $("sb-break").value = state.rule;
  $("sb-rule-note").textContent = state.rule === "none" ? ""
    : state.rules[state.rule] + (state.broken && state.broken.error ? ` ${state.broken.error}` : "");

  lab.setReadout("sb-loss", state.loss);
  const arch = state.architecture;
  $("sb-custom").hidden = state.preset !== "custom";
  fillSelect($("sb-loss-fn"), state.options.losses);
  showGrades(state.options.grades);
  $("sb-activation-names").textContent = `each one of ${state.options.activations.join(", ")}`;
  fillSelect($("sb-init"), state.options.inits);
  setIfIdle($("sb-widths"), arch.widths.join(","));
  setIfIdle($("sb-activations"), arch.activations.join(","));
  $("sb-loss-fn").value = arch.loss;
  $("sb-init").value = arch.init;
  $("sb-bias").checked = arch.bias;
  setIfIdle($("sb-seed"), arch.seed);
  showBatch(state);
  showEquations(state);
  showAnswers(state);
  draw(state);
  // the legend of a broken rule's values, while the drawing shows any
  $("sb-broken-legend").hidden = !document.querySelector('[data-testid^="sb-wrong-"]');
  showEntry(state);
  showCheck(state);
  showLastStep(state);
  $("sb-note").textContent = state.note || "";
  $("sb-error").textContent = "";
  const weights = state.layers.map((layer) => (layer.b ? { W: layer.W, b: layer.b } : { W: layer.W }));
  setIfIdle($("sb-weights-json"), JSON.stringify(weights));
}

// -- the learner's actions ----------------------------------------------------------------
$("sb-labels").addEventListener("click", (event) => {
  const equation = event.target.closest(".sb-tag");
  if (equation) {
    markEquation(equation.dataset.equation);
    return;
  }
  const target = event.target.closest("[data-entry]");
  if (!target) return;
  choose(target);
});
document.querySelector('[data-testid="sb-loss"]').addEventListener("click", (event) => {
  choose(event.target);
});

function choose(target) {
  selected = target.dataset.entry;
  const unit = selected.match(/^(?:[zad]|gb|ub)-(\d+)-(\d+)$/);
  if (unit && focus !== `${unit[1]}-${unit[2]}`) {
    focus = `${unit[1]}-${unit[2]}`;
    draw(lab.last);
  }
  showEntry(lab.last);
  markSelected();
  const editable = target.dataset.name === "W" || target.dataset.name === "b";
  $("sb-edit").hidden = !editable;
  if (editable) {
    editing = { layer: Number(target.dataset.layer), name: target.dataset.name,
      unit: Number(target.dataset.unit) };
    if (target.dataset.name === "W") editing.source = Number(target.dataset.source);
    const id = target.dataset.name === "W"
      ? `w-${editing.layer}-${editing.unit}-${editing.source}` : `b-${editing.layer}-${editing.unit}`;
    $("sb-edit-label").textContent = `new value of ${lab.last.labels[id].name}`;
    $("sb-edit-value").value = target.dataset.value;
    $("sb-edit-value").focus();
  } else {
    editing = null;
  }
}

function applyEdit() {
  const value = Number($("sb-edit-value").value);
  if (!editing || $("sb-edit-value").value.trim() === "" || !Number.isFinite(value)) {
    $("sb-error").textContent = "Give the new value as a number.";
    return;
  }
  lab.send("set_parameter", Object.assign({ value }, editing));
}
$("sb-edit-apply").addEventListener("click", applyEdit);
$("sb-edit-value").addEventListener("keydown", (event) => {
  if (event.key === "Enter") applyEdit();
});

$("sb-preset").addEventListener("change", (event) => {
  selected = null;
  lab.send("preset", { name: event.target.value });
});
$("sb-lr").addEventListener("change", (event) => {
  const lr = Number(event.target.value);
  if (event.target.value.trim() === "" || !Number.isFinite(lr)) {
    $("sb-error").textContent = "Give η as a number.";
    return;
  }
  lab.send("set_lr", { lr });
});
$("sb-break").addEventListener("change", (event) => lab.send("break", { rule: event.target.value }));
$("sb-step").addEventListener("click", () => lab.send("step"));
$("sb-all-edges").addEventListener("change", () => draw(lab.last));
$("sb-check").addEventListener("click", () => lab.send("check"));
$("sb-add-sample").addEventListener("click", () => lab.send("add_sample"));
$("sb-configure").addEventListener("click", () => {
  const widths = numbers($("sb-widths").value, "widths");
  if (!widths) return;
  lab.send("configure", {
    widths, activations: $("sb-activations").value.split(/[\s,]+/).filter((a) => a.length),
    loss: $("sb-loss-fn").value, bias: $("sb-bias").checked, init: $("sb-init").value,
    seed: Number($("sb-seed").value) || 0,
  });
});
$("sb-paste").addEventListener("click", () => {
  lab.send("paste_weights", { text: $("sb-weights-json").value });
});
$("sb-answer-mode").addEventListener("change", sendAnswerMode);
for (const box of document.querySelectorAll("#sb-answers [data-kind]")) {
  box.addEventListener("change", sendAnswerMode);
}
$("sb-answer-submit").addEventListener("click", submitAnswers);
$("sb-equations").addEventListener("click", (event) => {
  const item = event.target.closest("[data-equation]");
  if (item) markEquation(item.dataset.equation);
});
for (const [id, what] of [["sb-download-weights", "weights"], ["sb-download-md", "trace-markdown"],
  ["sb-download-json", "trace-json"]]) {
  $(id).addEventListener("click", () => lab.send("download", { what }));
}

// -- the server's replies ----------------------------------------------------------------
lab.onState.push((state) => render(state));
lab.onError.push((error) => {
  $("sb-error").textContent = error.message;
});
lab.onClose.push((event) => { $("sb-error").textContent = lab.closeMessage(event); });
const socket = lab.connect("sandbox");
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== "download") return;
  lab.lastDownload = message;
  saveFile(message.filename, message.content, message.media_type);
});
window.addEventListener("resize", () => {
  if (lab.last.type === "state") draw(lab.last);
});
