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
  if (testid) { p.dataset.testid = testid; p.dataset.value = value === null || value === undefined ? "" : String(value); }
  return p;
};

pg.showExplanation = function (e) {
  const box = $("explanation");
  const bias = e.name === "b";
  const j = e.row + 1, k = e.col + 1;
  const symbol = bias ? `b${j}` : `w${j},${k}`;
  const hidden = e.delta_terms.length && e.delta_terms[0].kind === "hidden";
  const table = document.createElement("table");
  const deltaHead = hidden ? ["Σ_k w_kj δ_k", "σ′(z_j)"] : ["a_j", "y_j"];
  pg.cellRow(table, ["point", ...deltaHead, "δ_j", ...(bias ? ["∂ℓ/∂b = δ_j"] : ["a_k", "δ_j · a_k"])], true);
  e.rows.forEach((index, i) => {
    const t = e.delta_terms[i] || {};
    const made = hidden ? [t.sum, t.sigma_prime] : [t.a, t.target === null ? "—" : t.target];
    pg.cellRow(table, [index, ...made, e.deltas[i], ...(bias ? [e.per_sample[i]] : [e.inputs[i], e.per_sample[i]])], false);
  });
  const parts = [
    pg.line(`${symbol} of layer ${e.layer + 1} at step ${e.step}, on ${e.point === null ? `the next batch (${e.rows.length} points)` : `training point ${e.point}`}:`),
    table,
    pg.line(pg.deltaSentence(e), "pg-explain-delta", e.delta_terms.length ? e.delta_terms[0].delta : null),
    pg.line(`ḡ = (1/${e.rows.length}) Σ = ${lab.format(e.mean)}   (central difference: ${lab.format(e.numeric)}, relative error ${lab.format(e.relative_error, 2)})`, "pg-explain-mean", e.mean),
  ];
  if (e.l1) parts.push(pg.line(`L1: g = ḡ + λ₁·sign(w) = ${lab.format(e.mean)} + ${lab.format(e.l1)} × sign(${lab.format(e.w)}) = ${lab.format(e.gradient)}`, "pg-explain-l1", e.gradient));
  parts.push(pg.line(`L2 term λ·w = ${lab.format(e.l2)} × ${lab.format(e.w)} = ${lab.format(e.l2_term)}`, "pg-explain-l2", e.l2_term));
  if (e.update_lines.length) {
    parts.push(pg.line(`${e.optimizer}'s update of ${symbol} (g = ${lab.format(e.gradient)}, η = ${lab.format(e.lr)}):`));
    const list = document.createElement("ol");
    list.dataset.testid = "pg-explain-rule";
    e.update_lines.forEach((line, i) => {
      const item = document.createElement("li");
      item.className = "formula";
      item.textContent = `${line.formula} = ${line.numbers} = ${lab.format(line.value)}`;
      item.dataset.testid = `pg-explain-line-${i}`;
      item.dataset.value = String(line.value);
      list.append(item);
    });
    parts.push(list);
  } else if (e.point === null) {
    parts.push(pg.line(`plain gradient descent, w ← w − η·(g + λw) = ${lab.format(e.w)} − ${lab.format(e.lr)} × ${lab.format(e.gradient + e.l2_term)} = ${lab.format(e.plain_update)}`, "pg-explain-plain", e.plain_update));
  }
  if (e.optimizer_update !== null) {
    parts.push(pg.line(`${symbol} ← ${symbol} − Δw = ${lab.format(e.w)} − ${lab.format(e.optimizer_delta)} = ${lab.format(e.optimizer_update)} (the optimizer's own step)` +
      (e.dropout ? " (with this step's dropout mask, which the worked step leaves out)" : ""), "pg-explain-update", e.optimizer_update));
  } else {
    parts.push(pg.line("one point's gradient: the optimizer's step uses the whole batch; leave “on” empty to see it"));
  }
  box.replaceChildren(...parts);
};

// δ_j of the first point, written out: the output error, or the sum over the layer above
// times σ′(z_j).
pg.deltaSentence = function (e) {
  const t = e.delta_terms[0];
  if (!t) return "";
  const j = e.row + 1, point = e.rows[0];
  if (t.kind === "hidden") {
    const terms = t.weights.map((w, i) => `${lab.format(w, 3)} × ${lab.format(t.deltas_above[i], 3)}`);
    const shown = terms.length > 6 ? [...terms.slice(0, 5), "…"] : terms;
    return `δ_${j} of point ${point} = (Σ_k w_k${j} δ_k) · σ′(z_${j}) = (${shown.join(" + ")}) × ${lab.format(t.sigma_prime, 4)} ` +
      `= ${lab.format(t.sum, 4)} × ${lab.format(t.sigma_prime, 4)} = ${lab.format(t.delta)}` +
      (e.sigma_prime_formula ? `   (${e.activation}: σ′(z) = ${e.sigma_prime_formula})` : "");
  }
  if (t.kind === "fused") {
    return `δ_${j} of point ${point} = a_${j} − y_${j} = ${lab.format(t.a)} − ${lab.format(t.target)} = ${lab.format(t.delta)}` +
      "   (the output's activation and loss together: σ′ cancels)";
  }
  if (t.softmax_inner !== null) {
    return `δ_${j} of point ${point} = a_${j} · (∂ℓ/∂a_${j} − Σ_i ∂ℓ/∂a_i a_i) = ${lab.format(t.a)} × (${lab.format(t.sum)} − ${lab.format(t.softmax_inner)}) = ${lab.format(t.delta)}`;
  }
  return `δ_${j} of point ${point} = ∂ℓ/∂a_${j} · σ′(z_${j}) = ${lab.format(t.sum)} × ${lab.format(t.sigma_prime)} = ${lab.format(t.delta)}`;
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
