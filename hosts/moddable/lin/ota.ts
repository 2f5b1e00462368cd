// Stands in for the ESP32's app slots (esp32/ota.ts) on lin, where there is
// no bootloader: two files hold the slots, a third (otadata.json) which slot
// "boots" and its state. mcsim runs the same app whichever slot is named, so
// this lets the updater's whole path run on lin (download, write, read back,
// hash, switch, self-test, mark valid or roll back) without changing what
// runs; the bootloader's decision is made here at start, as ESP-IDF's would
// be. What a power cut does to the slots is the Node simulator's
// (simulator/world/ota-flash.ts).

import { File } from 'file';
import type { ImageState, OtaPort } from '../../../src/ports/ota';
import { jsonText } from '../../../src/codec/json';

const SLOT_SIZE = 0x1e0000;
const OTADATA = './otadata.json';

interface OtaData {
  slot: number;
  state: ImageState;
}

function readText(path: string): string | null {
  if (!File.exists(path)) return null;
  const f = new File(path);
  const text = f.read(String) as string;
  f.close();
  return text;
}

function writeText(path: string, text: string): void {
  if (File.exists(path)) File.delete(path);
  const f = new File(path, true);
  f.write(text);
  f.close();
}

export class LinOta implements OtaPort {
  readonly hardware = 'lin';
  readonly slotSize = SLOT_SIZE;
  readonly resumable = true;
  private readonly restart: () => void;
  private readonly booted: OtaData;
  private file: File | null = null;
  private at = 0;

  constructor(restart: () => void) {
    this.restart = restart;
    let data: OtaData = { slot: 0, state: 'undefined' };
    try {
      const text = readText(OTADATA);
      if (text) data = JSON.parse(text) as OtaData;
    } catch {
      // unreadable: as an erased otadata, slot 0
    }
    // The bootloader's step: a new image boots pending-verify; one that was pending is given up.
    if (data.state === 'new') data = { slot: data.slot, state: 'pending-verify' };
    else if (data.state === 'pending-verify' || data.state === 'invalid' || data.state === 'aborted') data = { slot: 1 - data.slot, state: 'valid' };
    writeText(OTADATA, jsonText(data));
    this.booted = data;
  }

  private path(slot: number): string {
    return `./ota_${slot}.bin`;
  }

  running(): { slot: string; state: ImageState } {
    return { slot: `ota_${this.booted.slot}`, state: this.booted.state };
  }

  inactiveSlot(): string {
    return `ota_${1 - this.booted.slot}`;
  }

  open(size: number, offset: number): void {
    if (size > SLOT_SIZE) throw new RangeError(`an image of ${size} bytes does not fit the ${SLOT_SIZE}-byte slot`);
    this.cancel();
    const path = this.path(1 - this.booted.slot);
    if (offset === 0 && File.exists(path)) File.delete(path);
    this.file = new File(path, true);
    if (offset > this.file.length) throw new RangeError(`the slot holds ${this.file.length} bytes, cannot continue at ${offset}`);
    this.at = offset;
  }

  write(bytes: Uint8Array): void {
    if (!this.file) throw new Error('ota: no write open');
    this.file.position = this.at;
    this.file.write(bytes.slice().buffer as ArrayBuffer);
    this.at += bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    const f = this.file ?? new File(this.path(1 - this.booted.slot));
    f.position = offset;
    const out = new Uint8Array(f.read(ArrayBuffer, length));
    if (f !== this.file) f.close();
    return out;
  }

  complete(): void {
    if (!this.file) throw new Error('ota: no write open');
    this.file.close();
    this.file = null;
    writeText(OTADATA, jsonText({ slot: 1 - this.booted.slot, state: 'new' }));
  }

  cancel(): void {
    this.file?.close();
    this.file = null;
  }

  markValid(): void {
    if (this.booted.state !== 'pending-verify') return;
    this.booted.state = 'valid';
    writeText(OTADATA, jsonText(this.booted));
  }

  rollback(): void {
    writeText(OTADATA, jsonText({ slot: 1 - this.booted.slot, state: 'valid' }));
    this.restart();
  }
}
