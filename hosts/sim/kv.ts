// Key-value store on the desktop: a JSON file, replaced whole on every change
// (written to a temporary file and renamed), so a cut never leaves half a
// file: NVS on the device is power-safe too.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MAX_KEY_LENGTH, type KeyValuePort } from '../../src/ports/kv';

type Stored = string | { hex: string };

function check(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new RangeError(`key "${key}" must be 1..${MAX_KEY_LENGTH} characters`);
}

export class FileKeyValue implements KeyValuePort {
  private readonly file: string | null;
  private data: { [key: string]: Stored };

  constructor(file?: string) {
    this.file = file ?? null;
    this.data = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { [key: string]: Stored }) : {};
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
    writeFileSync(this.file + '.tmp', JSON.stringify(this.data, null, 1));
    renameSync(this.file + '.tmp', this.file);
  }
}
