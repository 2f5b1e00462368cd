// Bundles the TypeScript sources with esbuild:
//   dist/smgw.mjs       the command line, for Node
//   dist/bench.mjs      npm run bench
//   dist/fuzz.mjs       npm run fuzz
//   dist/test-moddable.mjs  npm run test:moddable (the app in Moddable's simulator)
//   dist/xs/decode.js   the decoder as a script for the XS engine (xsnap)
//   dist/xs/device.js   the firmware as a script for the XS engine, for smgw sim --engine xs
//   dist/xs/store.js    the reading log inside XS, for npm run bench
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// The firmware's version comes from package.json: src/version.ts is rewritten
// when they differ (the device cannot read package.json; mcconfig builds from src/).
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const versionFile = new URL('../src/version.ts', import.meta.url);
const versionSource = readFileSync(versionFile, 'utf8');
const versioned = versionSource.replace(/FIRMWARE_VERSION = '[^']*'/, `FIRMWARE_VERSION = '${version}'`);
if (versioned !== versionSource) writeFileSync(versionFile, versioned);

const common = { bundle: true, logLevel: 'warning', sourcemap: false, legalComments: 'none' };

await Promise.all([
  build({
    ...common,
    entryPoints: { smgw: 'cli/main.ts', bench: 'scripts/bench/main.ts', fuzz: 'scripts/fuzz.ts', 'test-moddable': 'scripts/moddable/e2e.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // cli/main.ts imports each command when it runs it: shared code goes into chunks.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  }),
  build({
    ...common,
    entryPoints: { decode: 'hosts/xsnap/decode-main.ts', device: 'hosts/sim/xs/device-main.ts', store: 'scripts/bench/xs-store-main.ts' },
    outdir: 'dist/xs',
    platform: 'neutral',
    format: 'iife',
    // The XS engine implements ES2023; nothing newer is emitted.
    target: 'es2022',
  }),
]);
