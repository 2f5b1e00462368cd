// Assets port on Moddable: the portal's pages are the manifest's resources
// (assets/portal/*), mapped from flash by Moddable's Resource: no copy in RAM.

import Resource from 'Resource';
import type { AssetsPort } from '../../src/ports/assets';

/** The files of assets/portal/ (the manifest's resources); a test checks the list matches the folder. */
export const PORTAL_ASSETS = ['index.html', 'app.css', 'app.js'];

export class ModdableAssets implements AssetsPort {
  get(name: string): Uint8Array | null {
    if (PORTAL_ASSETS.indexOf(name) < 0 || !Resource.exists(name)) return null;
    return new Uint8Array(new Resource(name) as unknown as ArrayBuffer);
  }

  names(): string[] {
    return PORTAL_ASSETS.slice();
  }
}
