// The host of a lab page inside a notebook cell (anywidget's render). Python prepends
// `const PAGE = {...}`: the page's document (styles inline) and its ES modules, each import
// rewritten to `backprop-module:<path>`.
//
// Each view runs the page's own document in an iframe of the cell: its own window, DOM and
// module instances, so two widgets never share ids, styles or state, and the notebook's
// styles never reach the page. The iframe gets a channel (window.backpropLabChannel, read by
// common.js's lab.channel) that behaves like the lab's WebSocket: send(text) goes to Python
// through the widget model's send; Python's replies arrive as "msg:custom" {lab: text}.

let moduleUrls = null;

// One blob URL per module, dependencies first, each import pointing at its dependency's URL.
// Made once per notebook page: each iframe still gets its own instances of the modules.
function urls() {
  if (moduleUrls) return moduleUrls;
  moduleUrls = {};
  const rewritten = new RegExp(`${PAGE.prefix}([^"'\\n]+)`, "g");
  for (const [path, source] of Object.entries(PAGE.modules)) {
    const text = source.replace(rewritten, (_, dependency) => moduleUrls[dependency]);
    moduleUrls[path] = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  }
  return moduleUrls;
}

// A WebSocket-alike over the widget model, for one page in one view.
function channel(model, cleanups) {
  const target = new EventTarget();
  target.readyState = 0;  // CONNECTING, as a WebSocket's
  target.send = (text) => {
    if (target.readyState === 1) model.send({ lab: text });
  };
  target.close = () => {
    if (target.readyState > 1) return;
    target.readyState = 3;
    target.dispatchEvent(Object.assign(new Event("close"),
      { code: 1000, reason: "the widget was closed" }));
  };
  const deliver = (message) => {
    if (target.readyState !== 1 || !message || typeof message.lab !== "string") return;
    target.dispatchEvent(new MessageEvent("message", { data: message.lab }));
  };
  model.on("msg:custom", deliver);
  cleanups.push(() => { model.off("msg:custom", deliver); target.close(); });
  setTimeout(() => {  // open once the page has added its listeners; then ask for the state
    target.readyState = 1;
    target.dispatchEvent(new Event("open"));
    model.send({ lab: JSON.stringify({ type: "ping" }) });
  }, 0);
  return target;
}

// The line above the page that says what the widget draws (e.g. which plane of the inputs).
function caption(text) {
  const line = document.createElement("p");
  line.textContent = text;
  line.dataset.backpropLabCaption = PAGE.name;
  line.style.cssText = "margin:0.2rem 0 0.4rem;font-size:0.85rem;color:#5b6475";
  return line;
}

function render({ model, el }) {
  const cleanups = [];
  const frame = document.createElement("iframe");
  frame.title = PAGE.title;
  frame.dataset.backpropLab = PAGE.name;
  frame.style.cssText = "display:block;width:100%;height:480px;border:0;background:#fff";
  frame.backpropLabChannel = () => channel(model, cleanups);
  const modules = urls();
  const entry = new RegExp(`${PAGE.prefix}([^"'\\n]+)`, "g");
  // this widget's own styles: the controls that do not apply to it hidden (the notebook's
  // own data or network), and the layout without them
  const style = document.createElement("style");
  style.textContent = model.get("_css") || "";
  frame.srcdoc = PAGE.html.replace(entry, (_, path) => modules[path])
    .replace("</head>", () => `${style.outerHTML}</head>`);
  frame.addEventListener("load", () => {
    // the frame as tall as its page, so the cell scrolls instead of the frame
    const page = frame.contentWindow, root = frame.contentDocument.documentElement;
    const fit = () => { frame.style.height = `${Math.ceil(root.scrollHeight)}px`; };
    const observer = new page.ResizeObserver(fit);
    observer.observe(frame.contentDocument.body);
    cleanups.push(() => observer.disconnect());
    fit();
  });
  const text = model.get("_caption");
  el.replaceChildren(...(text ? [caption(text)] : []), frame);
  // the kernel counts the views shown: once the last goes (its output cleared, the cell run
  // again), a page still playing pauses instead of training on for no one
  model.send({ view: "open" });
  cleanups.push(() => model.send({ view: "closed" }));
  return () => { for (const cleanup of cleanups) cleanup(); };
}

export default { render };
