#!/usr/bin/env node
// The smgw command. The TypeScript sources are bundled into dist/ by `npm ci`
// (the prepare script) and by `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/smgw.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('smgw: not built yet: run `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
await import(entry.href);
