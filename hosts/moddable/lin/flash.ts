// Stands in for the ESP32's `readings` data partition (esp32/flash.ts) on lin,
// where Moddable has no flash module: a file of the partition's size, with
// NOR flash's rules kept (an erase sets a 4 KB sector to FF; programming only
// clears bits), so the reading log meets on lin what it meets on the chip.
// Moddable's lin File flushes every write to the OS, so a killed process
// loses nothing it wrote (what a power cut does to flash is simulated by the
// Node simulator's flash, hosts/sim/flash.ts).

import { File } from 'file';
import type { FlashPort } from '../../../src/ports/flash';

const SECTOR = 4096;

export class FileFlash implements FlashPort {
  private readonly file: File;
  readonly size: number;
  readonly sectorSize = SECTOR;

  /** `size`: the ESP32 partition's (partitions.csv), a multiple of 4 KB. */
  constructor(path: string, size: number) {
    const fresh = !File.exists(path);
    this.file = new File(path, true);
    this.size = size;
    if (fresh || this.file.length !== size) {
      // A new partition is erased; one of another size is made new (a different build).
      this.file.position = 0;
      const erased = new Uint8Array(SECTOR).fill(0xff).buffer;
      for (let s = 0; s < size / SECTOR; s++) this.file.write(erased);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    this.file.position = offset;
    return new Uint8Array(this.file.read(ArrayBuffer, length));
  }

  write(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.byteLength);
    const programmed = this.read(offset, bytes.byteLength);
    for (let i = 0; i < programmed.length; i++) programmed[i] &= bytes[i];
    this.file.position = offset;
    this.file.write(programmed.buffer);
  }

  erase(sector: number): void {
    this.check(sector * SECTOR, SECTOR);
    this.file.position = sector * SECTOR;
    this.file.write(new Uint8Array(SECTOR).fill(0xff).buffer);
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`flash: ${offset}+${length} outside the partition (${this.size} bytes)`);
  }
}
