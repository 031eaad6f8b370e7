// Renders every LaTeX formula found in the insta snapshots with KaTeX and
// fails on the first one KaTeX rejects. Formulas are the text after
// `latex:` on a line, the math between `$$ … $$` or `\[ … \]`, and in the
// Markdown and LaTeX sections of proof snapshots the inline `$ … $` math of
// each sentence.
// Run by .ci/run after `cargo test`; needs `npm install katex` first.
"use strict";
const fs = require("fs");
const path = require("path");
const katex = require(path.join(__dirname, "katex", "node_modules", "katex"));

const dir = path.join(__dirname, "..", "snapshots");
const formulas = [];
for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".snap"))) {
  const body = fs.readFileSync(path.join(dir, name), "utf8").split("\n---\n").slice(1).join("\n---\n");
  for (const line of body.split("\n")) {
    const m = line.match(/^\s*latex:\s*(.+)$/);
    if (m) formulas.push([name, m[1]]);
  }
  for (const m of body.matchAll(/\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]/g)) {
    formulas.push([name, (m[1] || m[2]).trim()]);
  }
  if (name.startsWith("proof__")) {
    for (const section of body.split(/^--- /m).filter((s) => /^(markdown|latex)/.test(s))) {
      for (const line of section.split("\n").filter((l) => !l.trim().startsWith("$$"))) {
        for (const m of line.matchAll(/\$([^$\n]+)\$/g)) formulas.push([name, m[1]]);
      }
    }
  }
}
let failed = 0;
for (const [name, tex] of formulas) {
  try {
    katex.renderToString(tex, { throwOnError: true, displayMode: true, strict: "error" });
  } catch (err) {
    failed += 1;
    console.error(`${name}: ${err.message}\n  ${tex}`);
  }
}
console.log(`katex: ${formulas.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
