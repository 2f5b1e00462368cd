// The OTA port of the simulated device: esp_ota_* on the app slots and
// otadata that the simulator's world keeps (simulator/world/ota-flash.ts, on
// its NOR flash). This side only adapts them to src/ports/ota.ts; it takes
// what it needs of them as the interface below.

import type { ImageState, OtaPort } from '../../src/ports/ota';

/** The hardware name simulated devices run (a release header's target). */
const SIM_HARDWARE = 'sim';

/** The app slots and otadata of a simulated device, as this port uses them. */
export interface OtaSlots {
  readonly slotSize: number;
  readonly flash: { readonly sectorSize: number; erase(sector: number): void; write(offset: number, bytes: Uint8Array): void };
  slotBase(slot: number): number;
  readSlot(slot: number, offset: number, length: number): Uint8Array;
  /** Writes the otadata entry that says which slot boots next, in what state. */
  setEntry(slot: number, state: ImageState): void;
  /** The app in `slot`, or null when its image does not check. */
  appIn(slot: number): object | null;
}

/** What the bootloader started this boot: the slot and its state (markValid moves it on). */
export interface BootedSlot {
  readonly slot: number;
  state: ImageState;
}

/** The OTA port of one boot of a simulated device. */
export class SimOta implements OtaPort {
  readonly hardware = SIM_HARDWARE;
  readonly slotSize: number;
  readonly resumable = true;
  private readonly ota: OtaSlots;
  private readonly booted: BootedSlot;
  private readonly restart: () => void;
  /** Flash operations go through this (the boot's power-cut guard). */
  private readonly guard: <T>(op: () => T) => T;
  private writing: { size: number; at: number } | null = null;

  constructor(ota: OtaSlots, booted: BootedSlot, restart: () => void, guard: <T>(op: () => T) => T) {
    this.ota = ota;
    this.booted = booted;
    this.slotSize = ota.slotSize;
    this.restart = restart;
    this.guard = guard;
  }

  private get inactive(): number {
    return 1 - this.booted.slot;
  }

  running(): { slot: string; state: ImageState } {
    return { slot: `ota_${this.booted.slot}`, state: this.booted.state };
  }

  inactiveSlot(): string {
    return `ota_${this.inactive}`;
  }

  open(size: number, offset: number): void {
    if (size <= 0 || size > this.slotSize) throw new RangeError(`an image of ${size} bytes does not fit the ${this.slotSize}-byte slot`);
    if (offset < 0 || offset > size) throw new RangeError(`cannot continue at ${offset} of ${size} bytes`);
    this.writing = { size, at: offset };
    // As esp_ota_begin: the slot's sectors are erased as the write reaches them (from the start: all it needs).
    if (offset === 0) this.guard(() => this.eraseFrom(0, size));
  }

  private eraseFrom(offset: number, size: number): void {
    const sector = this.ota.flash.sectorSize;
    const base = this.ota.slotBase(this.inactive) / sector;
    for (let s = Math.floor(offset / sector); s < Math.ceil(size / sector); s++) this.ota.flash.erase(base + s);
  }

  write(bytes: Uint8Array): void {
    const w = this.writing;
    if (!w) throw new Error('ota: no write open');
    if (w.at + bytes.length > w.size) throw new RangeError(`ota: ${w.at + bytes.length} bytes written, the image has ${w.size}`);
    this.guard(() => this.ota.flash.write(this.ota.slotBase(this.inactive) + w.at, bytes));
    w.at += bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    return this.guard(() => this.ota.readSlot(this.inactive, offset, length));
  }

  complete(): void {
    if (!this.writing) throw new Error('ota: no write open');
    this.writing = null;
    // As esp_ota_end: the image must check before the boot slot changes.
    const app = this.guard(() => this.ota.appIn(this.inactive));
    if (!app) throw new Error('ota: the written image is not a bootable app (its checksum fails)');
    this.guard(() => this.ota.setEntry(this.inactive, 'new'));
  }

  cancel(): void {
    this.writing = null;
  }

  markValid(): void {
    if (this.booted.state !== 'pending-verify') return;
    this.guard(() => this.ota.setEntry(this.booted.slot, 'valid'));
    this.booted.state = 'valid';
  }

  rollback(): void {
    if (!this.guard(() => this.ota.appIn(this.inactive))) throw new Error('ota: no other image to roll back to');
    this.guard(() => this.ota.setEntry(this.inactive, 'valid'));
    this.restart();
  }
}

