// Assets port on the desktop: the portal's pages from assets/portal/, the
// same files the ESP32 build compiles in as resources. Read once per boot.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetsPort } from '../../src/ports/assets';

/** assets/portal/ of the repository, from the source (tests) or from a bundle in dist/. */
function portalAssetDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'assets', 'portal')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'assets', 'portal');
}

export class DiskAssets implements AssetsPort {
  private readonly files = new Map<string, Uint8Array>();

  constructor(dir = portalAssetDir()) {
    for (const name of readdirSync(dir)) this.files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  }

  get(name: string): Uint8Array | null {
    return this.files.get(name) ?? null;
  }

  names(): string[] {
    return [...this.files.keys()];
  }
}
