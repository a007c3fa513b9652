// Render every equation with the vendored KaTeX: the \( \) and \[ \] that arithmatex
// writes into Markdown pages, and the $ $ and $$ $$ of executed notebooks' Markdown cells.
// A formula KaTeX cannot parse is reported on the console (the site's browser test fails on it).
document$.subscribe(({ body }) => {
  const strict = { throwOnError: true, errorCallback: (message, error) => console.error(message, error) };
  body.querySelectorAll(".arithmatex").forEach((element) => {
    renderMathInElement(element, {
      ...strict,
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
    });
  });
  body.querySelectorAll(".jupyter-wrapper .jp-MarkdownOutput").forEach((element) => {
    renderMathInElement(element, {
      ...strict,
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
      ],
    });
  });
});
