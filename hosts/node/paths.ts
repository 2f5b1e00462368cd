// Where the repository and its built artefacts are, from wherever this code
// runs: its TypeScript source (tests), dist/ (the bundled command), or a
// bundle elsewhere in the repository. For any code on Node: the hosts, the
// command line, scripts and tests.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory above this module with a package.json. */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** A file in dist/. */
export function distFile(name: string): string {
  return join(repositoryRoot(), 'dist', name);
}
