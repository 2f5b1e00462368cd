// NOR flash in RAM, for benchmarks inside XS (no file, no Node): erase sets a
// sector to FF, programming ANDs, erases are counted per sector.

import type { FlashPort } from '../../src/ports/flash';

export class RamFlash implements FlashPort {
  readonly size: number;
  readonly sectorSize: number;
  readonly image: Uint8Array;
  readonly erases: number[];

  constructor(size: number, sectorSize = 4096) {
    this.size = size;
    this.sectorSize = sectorSize;
    this.image = new Uint8Array(size).fill(0xff);
    this.erases = new Array<number>(size / sectorSize).fill(0);
  }

  read(offset: number, length: number): Uint8Array {
    return this.image.slice(offset, offset + length);
  }

  write(offset: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.image[offset + i] &= bytes[i];
  }

  erase(sector: number): void {
    this.erases[sector]++;
    this.image.fill(0xff, sector * this.sectorSize, (sector + 1) * this.sectorSize);
  }
}
