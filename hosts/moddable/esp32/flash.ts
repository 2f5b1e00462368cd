// Flash port on the ESP32: the app's own data partition ("readings" in
// partitions.csv), through Moddable's flash module.

import Flash from 'flash';
import type { FlashPort } from '../../../src/ports/flash';

export class Esp32Flash implements FlashPort {
  private readonly flash: Flash;
  readonly size: number;
  readonly sectorSize: number;

  constructor(partition: string) {
    this.flash = new Flash(partition);
    this.size = this.flash.byteLength;
    this.sectorSize = this.flash.blockSize;
  }

  read(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.flash.read(offset, length) as ArrayBuffer);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.flash.write(offset, bytes.byteLength, bytes);
  }

  erase(sector: number): void {
    this.flash.erase(sector);
  }
}
