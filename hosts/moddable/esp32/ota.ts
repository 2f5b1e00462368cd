// OTA port on the ESP32: Moddable's ota module writes the inactive app slot
// (esp_ota_begin erases it sector by sector as the write goes, esp_ota_end
// checks the image, complete() switches the boot partition), and the native
// ota-boot module does what the ota module leaves out: the running image's
// state, marking it valid, rolling back, reading the slot back. The write
// cannot go on after a restart: esp_ota_begin starts the slot over, so an
// update interrupted by a power cut downloads again from the start (within a
// boot an outage loses nothing: the slot stays open).

import OTA from 'ota';
import { inactiveSize, markValid, readInactive, rollback, runningSlot, runningState } from 'ota-boot';
import type { ImageState, OtaPort } from '../../../src/ports/ota';

/** The slots partitions.csv names. */
const SLOTS = ['ota_0', 'ota_1'];

export class Esp32Ota implements OtaPort {
  readonly hardware = 'esp32';
  readonly slotSize: number;
  readonly resumable = false;
  private writer: OTA | null = null;

  constructor() {
    this.slotSize = inactiveSize();
  }

  running(): { slot: string; state: ImageState } {
    return { slot: runningSlot(), state: runningState() };
  }

  inactiveSlot(): string {
    return SLOTS[1 - SLOTS.indexOf(runningSlot())] ?? 'ota_0';
  }

  open(size: number, offset: number): void {
    if (offset !== 0) throw new RangeError('the ESP32 slot cannot continue a write after a restart');
    if (size > this.slotSize) throw new RangeError(`an image of ${size} bytes does not fit the ${this.slotSize}-byte slot`);
    this.cancel();
    this.writer = new OTA();
  }

  write(bytes: Uint8Array): void {
    if (!this.writer) throw new Error('ota: no write open');
    this.writer.write(bytes);
  }

  read(offset: number, length: number): Uint8Array {
    return new Uint8Array(readInactive(offset, length));
  }

  complete(): void {
    if (!this.writer) throw new Error('ota: no write open');
    const w = this.writer;
    this.writer = null;
    w.complete();
  }

  cancel(): void {
    this.writer?.cancel();
    this.writer = null;
  }

  markValid(): void {
    markValid();
  }

  rollback(): void {
    rollback();
  }
}
