// Stands in on lin for the ESP32's NVS behind Moddable's `preference` API, in
// place of the SDK's lin Preference. That one keeps a byte value as a string of
// comma-separated numbers and turns it back through an array of one string per
// byte: reading the device's certificate, key and CA once holds some 100 KB of
// chunks on lin, where NVS on the ESP32 returns an ArrayBuffer of the value's
// size. With it the heap measured on lin (docs/esp32.md) was lin's, not the
// device's. This one keeps bytes as base64 (XS's native Uint8Array.toBase64 and
// fromBase64) in a JSON file and reads the file on first use rather than when
// the module loads, so it can be preloaded like everything else. Same calls,
// same value types, same domains as the SDK's.

// Imports by module name only: a module mapped as `preference` has no folder
// for relative specifiers to start from.
import { File } from 'file';
import config from 'mc/config';

type Value = string | boolean | number | ArrayBuffer;
type Stored = string | boolean | number | { base64: string };

// ES2026's base64 methods, which XS has and the firmware's TypeScript library does not declare.
const Base64Bytes = Uint8Array as unknown as { fromBase64(text: string): Uint8Array };
type Base64Encodable = Uint8Array & { toBase64(): string };

type Store = { [domain: string]: { [key: string]: Stored } };

// A string made from the build's configuration: preloading it is what we want.
const PATH = (config as unknown as { file: { root: string } }).file.root + 'nvs.json';
let store: Store | null = null;

function load(): Store {
  if (store) return store;
  store = {};
  if (File.exists(PATH)) {
    const file = new File(PATH, false);
    try {
      store = JSON.parse(file.read(String) as string) as Store;
    } catch {
      // A file cut short by a kill mid-write reads as empty, as erased NVS would.
    } finally {
      file.close();
    }
  }
  return store;
}

function save(): void {
  const text = JSON.stringify(store);
  if (File.exists(PATH)) File.delete(PATH);
  const file = new File(PATH, true);
  file.write(text);
  file.close();
}

export default class Preference {
  static set(domain: string, key: string, value: Value): void {
    const s = load();
    (s[domain] ??= {})[key] = value instanceof ArrayBuffer ? { base64: (new Uint8Array(value) as Base64Encodable).toBase64() } : value;
    save();
  }

  static get(domain: string, key: string): Value | undefined {
    const v = load()[domain]?.[key];
    if (v === undefined || typeof v !== 'object') return v;
    return Base64Bytes.fromBase64(v.base64).buffer as ArrayBuffer;
  }

  static delete(domain: string, key: string): void {
    const s = load();
    const d = s[domain];
    if (!d || d[key] === undefined) return;
    delete d[key];
    if (Object.keys(d).length === 0) delete s[domain];
    save();
  }

  static keys(domain: string): string[] {
    return Object.keys(load()[domain] ?? {});
  }
}
