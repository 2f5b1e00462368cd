#!/usr/bin/env node
// The project's acceptance check for `smgw decode`, run as `npm run check-decoder` (and by .ci/run):
// the shared judge (../shared/tools/check-decoder.mjs) over the shared vectors and the repository's
// own M-Bus captures, on both engines. It is a script rather than a vitest file because each vector
// is a process of its own, minutes of work that the in-process decoder tests already cover
// property by property; here it is the shipped command, end to end, that is judged.
//
// The engines run side by side (each is a chain of short processes, so two use two cores). The
// judge's summary line of every run is printed; the exit code is non-zero unless every run ends
// "N passed, 0 failed" with N the number of cases in its file.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const judge = fileURLToPath(new URL('../../shared/tools/check-decoder.mjs', import.meta.url));
const files = [fileURLToPath(new URL('../../shared/vectors/public.json', import.meta.url)), fileURLToPath(new URL('../tests/vectors/mbus-oms.json', import.meta.url))];

function run(file, engine) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [judge, file, '--engine', engine], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ out, status }));
  });
}

for (const f of [judge, ...files]) {
  if (!existsSync(f)) {
    console.error(`check-decoder: ${f} is missing (the shared material belongs beside the repository, in ../shared)`);
    process.exit(1);
  }
}

let ok = true;
const chains = ['node', 'xs'].map(async (engine) => {
  const lines = [];
  for (const file of files) {
    const cases = JSON.parse(readFileSync(file, 'utf8')).length;
    const { out, status } = await run(file, engine);
    const summary = out.trim().split('\n').pop() ?? '';
    const passed = status === 0 && summary === `${cases} passed, 0 failed`;
    if (!passed) {
      ok = false;
      lines.push(out.trim());
    }
    lines.push(`${passed ? 'ok  ' : 'FAIL'} --engine ${engine} ${basename(dirname(file))}/${basename(file)}: ${summary}`);
  }
  return lines;
});
for (const lines of await Promise.all(chains)) console.log(lines.join('\n'));
process.exit(ok ? 0 : 1);
