// Renders the Markdown of every proof snapshot (the sections after a
// `--- markdown` line) with `marked` and fails unless each is one ordered
// list whose items are the proof's steps, numbered 1…N: a list that a
// Markdown engine breaks (a continuation indented too little after item 9)
// shows up as several lists. Run by .ci/run; needs `npm install marked`.
"use strict";
const fs = require("fs");
const path = require("path");
const { marked } = require(path.join(__dirname, "katex", "node_modules", "marked"));

const dir = path.join(__dirname, "..", "snapshots");
let checked = 0;
let failed = 0;
for (const name of fs.readdirSync(dir).filter((n) => n.startsWith("proof__") && n.endsWith(".snap"))) {
  const text = fs.readFileSync(path.join(dir, name), "utf8");
  for (const section of text.split(/^--- /m).filter((s) => s.startsWith("markdown"))) {
    const body = section.split("\n").slice(1).join("\n");
    const steps = (body.match(/^\d+\. /gm) || []).length;
    const html = marked.parse(body);
    const lists = (html.match(/<ol/g) || []).length;
    const items = (html.match(/<li>/g) || []).length;
    checked += 1;
    if (lists !== 1 || items !== steps || steps === 0) {
      failed += 1;
      console.error(`${name}: ${lists} ordered lists, ${items} items for ${steps} steps`);
    }
  }
}
console.log(`marked: ${checked - failed} proofs render as one list, ${failed} do not`);
process.exit(failed === 0 && checked > 0 ? 0 : 1);
