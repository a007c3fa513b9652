// What every lab page does for keyboards and screen readers: Space plays and pauses, and a
// canvas says in words what it shows. A page calls these with a line or two.

import { lab } from "./common.js";

// Space starts Play, or pauses a page that plays, unless the key goes to a control
// (a text field, a menu, a button, a link, a check box), which keeps its own meaning.
export function spacePlays() {
  document.addEventListener("keydown", (event) => {
    if (event.key !== " " || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && target.closest && target.closest("input, select, textarea, button, a, summary, [contenteditable]")) return;
    event.preventDefault();
    lab.send(lab.last.playing ? "pause" : "play");
  });
}

// The canvas's text alternative: what it shows, in words (role="img" and an aria-label),
// kept in data-description too so tests and scripts can read it.
export function describe(canvas, text) {
  if (!canvas) return;
  if (canvas.getAttribute("role") !== "img") canvas.setAttribute("role", "img");
  if (canvas.dataset.description !== text) {
    canvas.setAttribute("aria-label", text);
    canvas.dataset.description = text;
  }
}
