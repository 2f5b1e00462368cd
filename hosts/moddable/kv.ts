// Key-value port on Moddable: Preference (NVS on the ESP32; on lin a JSON file, lin/sdk/preference.ts), in one domain.

import Preference from 'preference';
import { MAX_KEY_LENGTH, type KeyValuePort } from '../../src/ports/kv';

const DOMAIN = 'smgw';

function check(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new RangeError(`key "${key}" must be 1..${MAX_KEY_LENGTH} characters`);
}

export class ModdableKeyValue implements KeyValuePort {
  get(key: string): string | undefined {
    check(key);
    const v = Preference.get(DOMAIN, key);
    return typeof v === 'string' ? v : undefined;
  }

  getBytes(key: string): Uint8Array | undefined {
    check(key);
    const v = Preference.get(DOMAIN, key);
    return v instanceof ArrayBuffer ? new Uint8Array(v) : undefined;
  }

  set(key: string, value: string | Uint8Array): void {
    check(key);
    Preference.set(DOMAIN, key, typeof value === 'string' ? value : value.slice().buffer);
  }

  delete(key: string): void {
    check(key);
    Preference.delete(DOMAIN, key);
  }

  keys(): string[] {
    return Preference.keys(DOMAIN);
  }
}
