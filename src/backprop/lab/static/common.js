// The lab's client side, shared by every page: one channel to the page's Python side (a
// WebSocket to /ws/<page>, or a notebook widget's model), the page's state as it was sent,
// and readout helpers. Pages draw; they never compute a number the user reads, nor decide
// a verdict.
//
// An ES module: each page's script imports { lab } from here. The same object is
// window.backpropLab, the one global the lab sets: the documented hook through which
// tests and users' scripts read the page (state(), onState, ...) and drive it (send()).

export const lab = {
  page: document.body ? document.body.dataset.page : undefined,
  socket: null,
  last: {},          // the page's state: every "state" message merged in, in order
  onState: [],       // callbacks (state, message) after each state message
  onError: [],       // callbacks (error) after each error reply
  onClose: [],       // callbacks (event) when the session ends
  closed: false,
};

// The channel to the page's Python side: a WebSocket to /ws/<page> in the lab, or, when
// the page runs inside a notebook widget, the channel its host hands over before the page's
// scripts run (window.backpropLabChannel(page): the widget model's send and "msg:custom").
// Both are used alike: send(text), readyState, and "open", "message" (event.data, the JSON
// text) and "close" events.
lab.channel = function (page) {
  if (typeof window.backpropLabChannel === "function") return window.backpropLabChannel(page);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${location.host}/ws/${page}`);
};

// Connect; each "state" message is merged into lab.last (a message may carry only the
// fields that changed), then handed to the page's callbacks.
lab.connect = function (page) {
  lab.page = page;
  const socket = lab.channel(page);
  lab.socket = socket;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "state") {
      Object.assign(lab.last, message);
      for (const callback of lab.onState) callback(lab.last, message);
    } else if (message.type === "error") {
      lab.lastError = message;
      for (const callback of lab.onError) callback(message);
    }
  });
  socket.addEventListener("close", (event) => {
    lab.closed = true;
    for (const callback of lab.onClose) callback(event);
  });
  return socket;
};

// Why the session ended, in a sentence for the page's status line: the server's reason
// when it gave one (a cap on sessions reached, a long time without input).
lab.closeMessage = function (event) {
  if (event.code === 4000) {
    return "session closed after a long time without input: reload the page to start again";
  }
  if (event.reason) return `the lab closed this session: ${event.reason}`;
  return "disconnected from the lab server: reload the page to start again";
};

// Send one message {type: verb, ...fields}; queued until the socket is open.
lab.send = function (verb, fields) {
  const text = JSON.stringify(Object.assign({ type: verb }, fields || {}));
  const socket = lab.socket;
  if (!socket || socket.readyState > WebSocket.OPEN) return;
  if (socket.readyState === WebSocket.CONNECTING) {
    socket.addEventListener("open", () => socket.send(text), { once: true });
  } else {
    socket.send(text);
  }
};

// The page's state as received (plus its name): what tests and scripts read.
lab.state = function () {
  return JSON.parse(JSON.stringify(Object.assign({ page: lab.page }, lab.last)));
};

// A number for reading: 6 significant digits, or "—" when missing.
lab.format = function (value, digits) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  const d = digits || 6;
  const text = Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-4)
    ? value.toExponential(d - 1) : Number(value.toPrecision(d)).toString();
  return text.replace(/-/g, "−");  // every minus sign a real one (U+2212)
};

// Show a number in the element with this data-testid: short text, full value in data-value.
lab.setReadout = function (testid, value, digits) {
  const element = document.querySelector(`[data-testid="${testid}"]`);
  if (!element) return;
  element.textContent = lab.format(value, digits);
  element.dataset.value = value === null || value === undefined ? "" : String(value);
};

// Set a text readout (no number) by data-testid.
lab.setText = function (testid, text) {
  const element = document.querySelector(`[data-testid="${testid}"]`);
  if (element) element.textContent = text;
};

// A canvas sized to its CSS box at the screen's pixel ratio; returns its 2D context
// scaled so drawing uses CSS pixels.
lab.fitCanvas = function (canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
};

// The element with this id.
export const $ = (id) => document.getElementById(id);

// Save a file the server sent: its text or bytes under its name, as the browser downloads do.
export function saveFile(filename, body, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([body], { type }));
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

window.backpropLab = lab;
