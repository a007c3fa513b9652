// /playground's close-ups and side-by-side tools: explain a weight, the gradient check,
// the loss surface, batch modes and A/B. They send requests and show the replies.

import { $, lab } from "../common.js";

import { pg } from "./draw.js";

$("explain").addEventListener("click", () => {
  if (!pg.selected) { $("error").textContent = "explain: click an edge (a weight) or a unit (its bias) first"; return; }
  const text = $("explain-point").value.trim();
  const fields = { layer: pg.selected.layer, row: pg.selected.row, col: pg.selected.col };
  if (text !== "") fields.point = Number(text);
  lab.send("explain", fields);
});
$("gradient-check").addEventListener("click", () => lab.send("gradient_check"));
$("paint-check").addEventListener("change", () => pg.requestDraw());
$("batch-modes").addEventListener("click", () => {
  lab.send("batch_modes", { epochs: Number($("batch-epochs").value) || 10 });
});
$("batch-axis").addEventListener("change", () => pg.drawBatchModes());
$("compare").addEventListener("click", () => {
  const field = $("compare-field").value, text = $("compare-value").value.trim();
  const current = (lab.last.setup || {})[field];
  let value = text;
  if (field === "layers") value = text === "" ? [] : text.split(",").map(Number);
  else if (typeof current === "number") value = Number(text);
  lab.send("compare", { [field]: value });
});
$("compare-stop").addEventListener("click", () => lab.send("stop_compare"));
$("surface").addEventListener("click", () => {
  const fields = { mode: $("surface-mode").value, span: Number($("surface-span").value) || 1,
    seed: Number($("surface-seed").value) || 0 };
  if (fields.mode === "weights") {
    if (pg.recent.length < 2) { $("error").textContent = "surface: click two weights (pg.edges or units) first"; return; }
    fields.first = pg.recent[0]; fields.second = pg.recent[1];
  }
  lab.send("surface", fields);
});

pg.cellRow = function (table, cells, header) {
  const row = table.insertRow();
  for (const cell of cells) {
    const element = document.createElement(header ? "th" : "td");
    if (typeof cell === "number") { element.textContent = lab.format(cell); element.dataset.value = String(cell); }
    else element.textContent = cell;
    row.append(element);
  }
};

pg.line = function (text, testid, value) {
  const p = document.createElement("p");
  p.textContent = text;
  if (testid) { p.dataset.testid = testid; p.dataset.value = String(value); }
  return p;
};

pg.showExplanation = function (e) {
  const box = $("explanation");
  const bias = e.name === "b";
  const symbol = bias ? `b${e.row + 1}` : `w${e.row + 1},${e.col + 1}`;
  const table = document.createElement("table");
  pg.cellRow(table, bias ? ["point", "δ_j", "∂ℓ/∂b = δ_j"] : ["point", "δ_j", "a_k", "δ_j · a_k"], true);
  e.rows.forEach((index, i) => {
    pg.cellRow(table, bias ? [index, e.deltas[i], e.per_sample[i]]
      : [index, e.deltas[i], e.inputs[i], e.per_sample[i]], false);
  });
  const parts = [
    pg.line(`${symbol} of layer ${e.layer + 1} at step ${e.step}, on ${e.point === null ? `the next batch (${e.rows.length} points)` : `training point ${e.point}`}:`),
    table,
    pg.line(`ḡ = (1/${e.rows.length}) Σ = ${lab.format(e.mean)}   (central difference: ${lab.format(e.numeric)}, relative error ${lab.format(e.relative_error, 2)})`, "pg-explain-mean", e.mean),
    pg.line(`L2 term λ·w = ${lab.format(e.l2)} × ${lab.format(e.w)} = ${lab.format(e.l2_term)}`, "pg-explain-l2", e.l2_term),
    pg.line(`plain gradient descent, w ← w − η·(ḡ + λw) = ${lab.format(e.w)} − ${lab.format(e.lr)} × ${lab.format(e.mean + e.l2_term)} = ${lab.format(e.plain_update)}`, "pg-explain-plain", e.plain_update),
  ];
  if (e.optimizer_update !== null) {
    parts.push(pg.line(`${e.optimizer} takes the step: ${symbol} becomes ${lab.format(e.optimizer_update)}` +
      (e.dropout ? " (with this step's dropout mask, which the worked step leaves out)" : ""), "pg-explain-update", e.optimizer_update));
  }
  box.replaceChildren(...parts);
};

pg.showCheck = function (check) {
  lab.setText("pg-check-verdict", check.verdict);
  $("check-verdict").className = check.passed ? "status good" : "status bad";
  $("check-verdict").dataset.value = String(check.max_error);
  $("check-report").textContent = `largest relative error per entry: ${lab.format(check.max_error, 3)} on ${check.points} points, step ${check.step}\n${check.report}`;
};

pg.showComparison = function (state) {
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
};
