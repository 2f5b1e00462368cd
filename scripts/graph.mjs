#!/usr/bin/env node
// npm run graph: draws the import graphs of docs/architecture.md again from the code, with
// dependency-cruiser (the rule set in .dependency-cruiser.cjs): between the top-level folders (the hosts
// each on their own), and between the folders of src/. They replace the page's first two mermaid
// blocks. `--check` writes nothing and fails when the page's graphs are not the code's
// (tests/layout.test.ts runs it).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = fileURLToPath(new URL('../docs/architecture.md', import.meta.url));
const depcruise = fileURLToPath(new URL('../node_modules/.bin/depcruise', import.meta.url));

function graph(include, collapse, folders) {
  const args = ['--config', '.dependency-cruiser.cjs', '--include-only', include, '--collapse', collapse, '--output-type', 'mermaid', ...folders];
  return execFileSync(depcruise, args, { cwd: root, encoding: 'utf8' }).trim();
}

const graphs = [
  graph('^(src|hosts|simulator|backend|cli)/', '^(hosts/[^/]+|[^/]+)', ['src', 'hosts', 'simulator', 'backend', 'cli']),
  graph('^src/', '^src/[^/]+', ['src']),
];

const text = readFileSync(page, 'utf8');
let n = 0;
const drawn = text.replace(/```mermaid\n[\s\S]*?\n```/g, (block) => (n < graphs.length ? '```mermaid\n' + graphs[n++] + '\n```' : block));
if (n !== graphs.length) {
  console.error(`graph: docs/architecture.md has ${n} mermaid blocks, not ${graphs.length}`);
  process.exit(1);
}
if (drawn === text) console.log('graph: docs/architecture.md is current');
else if (process.argv.includes('--check')) {
  console.error("graph: the import graphs in docs/architecture.md are not the code's; run npm run graph");
  process.exit(1);
} else {
  writeFileSync(page, drawn);
  console.log('graph: docs/architecture.md drawn again');
}
