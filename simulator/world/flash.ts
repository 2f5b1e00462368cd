// NOR flash on the desktop: an image file with 4 KB sectors and NOR's rules.
// Erase sets a sector to FF; programming can only clear bits (the result is
// the AND of old and new); a power cut can stop a program or an erase part
// way, byte by byte. Erase counts per sector are kept for the wear report.

import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import type { FlashPort } from '../../src/ports/flash';
import { PowerCut } from '../../hosts/sim/power';

export const SECTOR = 4096;

export class NorFlash implements FlashPort {
  readonly size: number;
  readonly sectorSize = SECTOR;
  readonly image: Uint8Array;
  readonly erases: number[];
  private readonly fd: number | null;
  /** Program/erase steps (one per byte) until the power fails; -1: never. */
  private cutIn = -1;
  /** Program/erase steps done so far. */
  steps = 0;
  /** The power has failed: every operation fails until the device boots again. */
  dead = false;
  /** Called before every program/erase step, with the image as a cut at this step would leave it (tests try every cut point). */
  beforeStep: ((image: Uint8Array) => void) | null = null;

  /** An image of `size` bytes, kept in `file` when given (created erased). */
  constructor(size: number, file?: string) {
    if (size % SECTOR !== 0) throw new RangeError('flash size must be a multiple of 4096');
    this.size = size;
    this.image = new Uint8Array(size).fill(0xff);
    this.erases = new Array(size / SECTOR).fill(0);
    this.fd = null;
    if (file) {
      const exists = existsSync(file);
      this.fd = openSync(file, exists ? 'r+' : 'w+');
      if (exists) readSync(this.fd, this.image, 0, size, 0);
      else writeSync(this.fd, this.image, 0, size, 0);
    }
  }

  /** Fails the power after `steps` more program/erase steps (0: at the next one). */
  cutAfter(steps: number): void {
    this.cutIn = steps;
  }

  /** The device booted again; a cut still to come stays set with `keepCut` (one in the bootloader's next write). */
  revive(keepCut = false): void {
    this.dead = false;
    if (!keepCut) this.cutIn = -1;
  }

  private check(offset: number, length: number): void {
    if (this.dead) throw new PowerCut();
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`flash access ${offset}+${length} outside ${this.size} bytes`);
  }

  /** An unbacked copy of this flash's image, as another device would find it. */
  snapshot(image: Uint8Array = this.image): NorFlash {
    const copy = new NorFlash(this.size);
    copy.image.set(image);
    return copy;
  }

  /** Counts down one step; true when the power fails now. */
  private step(): boolean {
    this.beforeStep?.(this.image);
    this.steps++;
    if (this.cutIn < 0) return false;
    if (this.cutIn === 0) {
      this.dead = true;
      this.cutIn = -1;
      return true;
    }
    this.cutIn--;
    return false;
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.image.slice(offset, offset + length);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      if (this.step()) {
        this.persist(offset, i);
        throw new PowerCut();
      }
      this.image[offset + i] &= bytes[i];
    }
    this.persist(offset, bytes.length);
  }

  erase(sector: number): void {
    if (this.dead) throw new PowerCut();
    if (sector < 0 || sector >= this.erases.length) throw new RangeError(`no sector ${sector}`);
    const base = sector * SECTOR;
    this.erases[sector]++;
    for (let i = 0; i < SECTOR; i++) {
      if (this.step()) {
        this.persist(base, i);
        throw new PowerCut();
      }
      this.image[base + i] = 0xff;
    }
    this.persist(base, SECTOR);
  }

  private persist(offset: number, length: number): void {
    if (this.fd !== null && length > 0) writeSync(this.fd, this.image, offset, length, offset);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}
