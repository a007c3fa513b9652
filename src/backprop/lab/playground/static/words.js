// /playground in words: a tooltip on each unit and edge (its value and formula), edges
// chosen from the keyboard, and what each canvas shows said as text (the network also
// as a table). The numbers are the server's; this file only puts them into sentences.

import { $, lab } from "../common.js";
import { describe } from "../access.js";
import { pg } from "./draw.js";

const SUB = { 0: "₀", 1: "₁", 2: "₂", 3: "₃", 4: "₄", 5: "₅", 6: "₆", 7: "₇", 8: "₈", 9: "₉", ",": "," };
const sub = (text) => String(text).split("").map((c) => SUB[c] || c).join("");

// What the pointer is over, in CSS pixels of the network canvas: a unit (its bias, or an
// input), else the nearest edge within 6 px, else null.
pg.hit = function (x, y) {
  for (const unit of pg.units) {
    if (x >= unit.x && x <= unit.x + unit.size && y >= unit.y && y <= unit.y + unit.size) {
      return unit.layer === 0 ? { input: true, layer: -1, row: unit.row, unit }
        : pg.biasTarget(unit.layer - 1, unit.row, unit);
    }
  }
  let best = null, bestDistance = 6;
  for (const edge of pg.edges) {
    const dx = edge.x1 - edge.x0, dy = edge.y1 - edge.y0;
    const t = Math.max(0, Math.min(1, ((x - edge.x0) * dx + (y - edge.y0) * dy) / (dx * dx + dy * dy)));
    const distance = Math.hypot(edge.x0 + t * dx - x, edge.y0 + t * dy - y);
    if (distance < bestDistance) { best = edge; bestDistance = distance; }
  }
  return best;
};

// A unit as a target: its bias b_j (the column after the weights).
pg.biasTarget = function (layer, row, unit) {
  const dense = lab.last.network.layers[layer];
  return { layer, row, col: dense.W[0] ? dense.W[0].length : 0, bias: true, value: dense.b[row], unit };
};

// The name of a target as the page writes it: w₃,₂ of layer 2, b₃ of layer 2, input x1.
pg.nameOf = function (target) {
  if (target.input) return `input ${lab.last.network.inputs[target.row]}`;
  return target.bias ? `b${sub(target.row + 1)} of layer ${target.layer + 1}`
    : `w${sub(`${target.row + 1},${target.col + 1}`)} of layer ${target.layer + 1}`;
};

// The tooltip's lines: value and formula, forward or backward as the view is.
pg.describeTarget = function (target) {
  const picture = lab.last.network;
  if (target.input) {
    const name = picture.inputs[target.row];
    return [`input ${name}`, `a${sub(0)} = ${name} of the point (x1, x2)`, "each unit shows its output over the plane"];
  }
  const layer = picture.layers[target.layer], j = target.row + 1, l = target.layer + 1;
  const last = target.layer === picture.layers.length - 1;
  const backward = $("view").value === "backward";
  if (target.bias) {
    return [
      `unit ${j} of ${last ? "the output layer" : `hidden layer ${l}`} (layer ${l})`,
      `z${sub(j)} = Σₖ w${sub(j)}ₖ·aₖ + b${sub(j)},  a${sub(j)} = ${layer.activation}(z${sub(j)})`,
      `b${sub(j)} = ${lab.format(layer.b[target.row])}`,
      `δ̄${sub(j)} = ∂L/∂b${sub(j)} = ${lab.format(layer.delta[target.row])}` +
        (backward ? "  (the unit's colour)" : ""),
    ];
  }
  const k = target.col + 1;
  return [
    `${pg.nameOf(target)}: from ${target.layer === 0 ? `input ${picture.inputs[target.col]}` : `unit ${k} of layer ${l - 1}`} to unit ${j}`,
    `w = ${lab.format(layer.W[target.row][target.col])}`,
    `∂L/∂w = mean of δ${sub(j)}·a${sub(k)} = ${lab.format(layer.dW[target.row][target.col])}`,
    backward ? "the edge shows ∂L/∂w: colour its sign, width its size"
      : "the edge shows w: colour its sign, width its size",
  ];
};

function showTooltip(target, x, y) {
  const tip = $("tooltip");
  if (!target) { tip.hidden = true; return; }
  tip.textContent = pg.describeTarget(target).join("\n");
  tip.hidden = false;
  const box = $("network-canvas").parentElement.clientWidth;
  tip.style.left = `${Math.max(0, Math.min(x + 12, box - tip.offsetWidth - 4))}px`;
  tip.style.top = `${y + 14}px`;
}

const canvas = $("network-canvas");
canvas.addEventListener("mousemove", (event) => {
  if (!lab.last.network) return;
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  showTooltip(pg.hit(x, y), x, y);
});
canvas.addEventListener("mouseleave", () => {
  if (!pg.selected || document.activeElement !== canvas) $("tooltip").hidden = true;
});

// -- the keyboard: ← → (or ↑ ↓) walk the edges in drawing order, Home and End jump, Enter
// edits the chosen weight, Escape lets go.
canvas.addEventListener("keydown", (event) => {
  if (!pg.edges.length) return;
  const index = pg.selected && !pg.selected.bias ? pg.edges.findIndex((e) =>
    e.layer === pg.selected.layer && e.row === pg.selected.row && e.col === pg.selected.col) : -1;
  let next = null;
  if (event.key === "ArrowRight" || event.key === "ArrowDown") next = index < 0 ? 0 : Math.min(pg.edges.length - 1, index + 1);
  else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = index < 0 ? pg.edges.length - 1 : Math.max(0, index - 1);
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = pg.edges.length - 1;
  else if (event.key === "Enter" && pg.selected) {
    event.preventDefault();
    if (!$("weight-editor").hidden) $("weight-value").focus();
    return;
  } else if (event.key === "Escape") {
    pg.select(null);
    return;
  }
  if (next === null) return;
  event.preventDefault();
  const edge = pg.edges[next];
  pg.select(edge);
  showTooltip(edge, (edge.x0 + edge.x1) / 2, (edge.y0 + edge.y1) / 2);
});
canvas.addEventListener("blur", () => { $("tooltip").hidden = true; });

// -- text alternatives ----------------------------------------------------------------------

// The network as tables: per layer, W (rows: units, columns: inputs), b and δ̄. Built only
// while its <details> is open.
pg.networkTable = function (state) {
  const box = $("network-table");
  if (!$("network-table-box").open || !state.network) return;
  const picture = state.network;
  const tables = picture.layers.map((layer, l) => {
    const table = document.createElement("table");
    const last = l === picture.layers.length - 1;
    table.createCaption().textContent = `layer ${l + 1} (${last ? "output" : "hidden"}, ${layer.activation})`;
    const head = table.insertRow();
    const inputs = l === 0 ? picture.inputs : layer.W[0].map((_, k) => `unit ${k + 1}`);
    for (const text of ["unit", ...inputs.map((name) => `w from ${name}`), "b", "δ̄ = ∂L/∂b"]) {
      const th = document.createElement("th"); th.textContent = text; th.scope = "col"; head.append(th);
    }
    layer.W.forEach((row, j) => {
      const tr = table.insertRow();
      const th = document.createElement("th"); th.scope = "row"; th.textContent = String(j + 1); tr.append(th);
      [...row, layer.b[j], layer.delta[j]].forEach((value, i) => {
        const cell = tr.insertCell();
        cell.textContent = lab.format(value, 4);
        cell.dataset.value = value === null ? "" : String(value);
        cell.dataset.testid = i < row.length ? `pg-table-w-${l}-${j}-${i}` : i === row.length ? `pg-table-b-${l}-${j}` : `pg-table-delta-${l}-${j}`;
      });
    });
    return table;
  });
  box.replaceChildren(...tables);
};
$("network-table-box").addEventListener("toggle", () => pg.networkTable(lab.last));

function range(values) {
  const finite = values.filter((v) => v !== null && v !== undefined);
  return finite.length ? `${lab.format(Math.min(...finite), 3)} to ${lab.format(Math.max(...finite), 3)}` : "none yet";
}

// A sentence per canvas: what it shows and its main numbers now.
pg.describeCanvases = function (state) {
  if (state.network) {
    const picture = state.network;
    const sizes = [picture.inputs.length, ...picture.layers.map((l) => l.W.length)].join("-");
    const weights = picture.layers.flatMap((l) => l.W.flat());
    describe($("network-canvas"), `The network ${sizes} (inputs ${picture.inputs.join(", ")}), ` +
      `drawn as units and edges; ${weights.length} weights from ${range(weights)}. ` +
      "Open “the network as a table” for every number; use the arrow keys to choose an edge.");
  }
  if (state.boundary && state.points) {
    const what = state.task === "classification"
      ? (state.boundary.discretized ? "the class the network predicts" : "the probability of each class")
      : (state.boundary.discretized ? "the sign of the network's output" : "the network's output");
    describe($("boundary-canvas"), `The output over the plane (x1 across, x2 up): ${what}, with ` +
      `${state.points.train.length} training points (filled) and ${state.points.test.length} test points (rings). ` +
      `Test loss ${lab.format(state.loss_test, 3)}` +
      (state.accuracy_test !== null && state.accuracy_test !== undefined ? `, test accuracy ${lab.format(state.accuracy_test, 3)}.` : "."));
  }
  const rows = pg.history, last = rows[rows.length - 1], first = rows[0];
  if (last) {
    describe($("loss-canvas"), `Loss against step, train (solid) and test (dashed): from ` +
      `${lab.format(first[2], 3)} at step ${first[0]} to ${lab.format(last[2], 3)} (train) and ` +
      `${lab.format(last[3], 3)} (test) at step ${last[0]}.`);
    const norms = last.slice(5).map((v, i) => `layer ${i + 1}: ${lab.format(v, 3)}`);
    describe($("norm-canvas"), `Gradient norm of each layer against step, log scale; at step ${last[0]}: ` +
      `${norms.join(", ") || "none yet"}.`);
  }
  if (state.histograms) {
    describe($("histogram-canvas"), "Histograms of each layer's activations a and errors δ over the training set at step " +
      `${state.histograms.step}: ` + state.histograms.layers.map((layer, i) =>
      `layer ${i + 1} a from ${lab.format(layer.activation.low, 2)} to ${lab.format(layer.activation.high, 2)} (sd ${lab.format(layer.activation.std, 2)}), ` +
      `δ sd ${lab.format(layer.delta.std, 2)}`).join("; ") + ".");
  }
};
