// The layer rules (docs/architecture.md): which top-level folder may import
// which, and no cycles. tests/layout.test.ts runs dependency-cruiser with
// these rules over src, hosts, simulator, backend and cli and fails on any
// violation; `npx depcruise --config .dependency-cruiser.cjs src hosts
// simulator backend cli` shows them.
//
//   src        the firmware: imports only src/ (no Node, no Moddable, no packages)
//   hosts      the ports implemented on Moddable (moddable), Node (sim, node) and xsnap;
//              they import src/ and each other, never the simulator, the CLI or the backend
//   simulator  the world (meter, line, flash, network, clock) and the device it runs;
//              imports src/ and hosts/, the backend only through simulator/embedded-backend.ts
//   backend    imports the shared formats and helpers of src/, nothing else of the repository
//   cli        on top: imports any of them
//
// Type-only imports count: a type is a dependency too (tsPreCompilationDeps).
// Cycles between folders are checked by folder (the `scope: 'folder'` rule,
// every folder on its own) and, for the top-level folders and the folders of
// src/ taken whole, by tests/layout.test.ts on this same cruise.

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module imports itself through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment: 'No folder imports itself through other folders.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-only-src',
      comment: 'The firmware runs on XS: it imports its own modules only: no Node built-in, no package, no Moddable module (the ports are how it reaches the host).',
      severity: 'error',
      from: { path: '^src/' },
      to: { pathNot: '^src/' },
    },
    {
      name: 'hosts-not-up',
      comment: 'hosts/ adapts the world to the ports: it takes what it needs as interfaces of its own, and imports no simulator, CLI or backend.',
      severity: 'error',
      from: { path: '^hosts/' },
      to: { path: '^(simulator|cli|backend)/' },
    },
    {
      name: 'hosts-moddable-only-device',
      comment: 'The Moddable host builds with the firmware only: src/ and hosts/moddable/ (and Moddable\'s modules).',
      severity: 'error',
      from: { path: '^hosts/moddable/' },
      to: { path: '^hosts/(?!moddable/)' },
    },
    {
      name: 'simulator-not-cli',
      comment: 'The simulator is below the command line.',
      severity: 'error',
      from: { path: '^simulator/' },
      to: { path: '^cli/' },
    },
    {
      name: 'simulator-backend-through-one-module',
      comment: 'The embedded backend a run starts is reached through simulator/embedded-backend.ts only.',
      severity: 'error',
      from: { path: '^simulator/', pathNot: '^simulator/embedded-backend\\.ts$' },
      to: { path: '^backend/' },
    },
    {
      name: 'backend-not-device-side',
      comment: 'The backend shares formats with the firmware (src/formats and helpers), and knows nothing of hosts, the simulator or the CLI.',
      severity: 'error',
      from: { path: '^backend/' },
      to: { path: '^(hosts|simulator|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
