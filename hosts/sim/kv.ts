// Key-value store on the desktop: a JSON file, replaced whole on every change
// (written to a temporary file and renamed), so a cut never leaves half a
// file: NVS on the device is power-safe too. The file holds the device's
// secrets (meter keys, Wi-Fi and access point passwords, the uplink's key) in
// the clear, as NVS does without encryption (docs/esp32.md): it is readable
// by its owner only (0600), and a file an older version left readable by
// others is tightened when opened.

import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { MAX_KEY_LENGTH, type KeyValuePort } from '../../src/ports/kv';

type Stored = string | { hex: string };

/** rw for the owner, nothing for group and others. */
const OWNER_ONLY = 0o600;

function check(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new RangeError(`key "${key}" must be 1..${MAX_KEY_LENGTH} characters`);
}

export class FileKeyValue implements KeyValuePort {
  private readonly file: string | null;
  private data: { [key: string]: Stored };

  constructor(file?: string) {
    this.file = file ?? null;
    const exists = file !== undefined && existsSync(file);
    if (exists && (statSync(file).mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY);
    this.data = exists ? (JSON.parse(readFileSync(file, 'utf8')) as { [key: string]: Stored }) : {};
  }

  get(key: string): string | undefined {
    check(key);
    const v = this.data[key];
    return typeof v === 'string' ? v : undefined;
  }

  getBytes(key: string): Uint8Array | undefined {
    check(key);
    const v = this.data[key];
    return v && typeof v !== 'string' ? new Uint8Array(Buffer.from(v.hex, 'hex')) : undefined;
  }

  set(key: string, value: string | Uint8Array): void {
    check(key);
    this.data[key] = typeof value === 'string' ? value : { hex: Buffer.from(value).toString('hex') };
    this.save();
  }

  delete(key: string): void {
    check(key);
    delete this.data[key];
    this.save();
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  private save(): void {
    if (!this.file) return;
    const tmp = this.file + '.tmp';
    // The mode applies when the file is created; a temporary file left by a cut keeps its own, hence the chmod.
    writeFileSync(tmp, JSON.stringify(this.data, null, 1), { mode: OWNER_ONLY });
    chmodSync(tmp, OWNER_ONLY);
    renameSync(tmp, this.file);
  }
}
