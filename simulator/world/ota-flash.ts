// The ESP32's app slots and bootloader, modelled on the simulator's NOR flash
// (flash.ts, so that a power cut can stop any program or erase part
// way, byte by byte). The layout follows ESP-IDF's: two otadata sectors, then
// slot ota_0 and slot ota_1.
//
// otadata: each sector holds one 16-byte entry (generation u32, slot u8,
// state u8, 2 reserved, 4 reserved, check u32 = FNV-1a of the first 12
// bytes). The entry with the highest generation whose check holds says which
// slot boots and in what state. A new entry goes to the sector that does not
// hold the current one (erased first): a power cut while it is written leaves
// a sector whose check fails, and the other sector's entry still counts. This
// is what ESP-IDF's otadata does with its two copies and their CRC.
//
// The bootloader (boot()) runs before the firmware at every power-on: an image
// in state "new" boots as "pending-verify"; one still "pending-verify" (it
// booted once and was not marked valid) is given up, and the other slot boots
// (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE). A slot whose image does not check
// (its trailing SHA-256, as ESP-IDF appends one to every app image) is never
// booted.
//
// A simulated app image stands in for what mcconfig builds: magic, its
// length, a JSON descriptor (the firmware version it runs, and for tests a
// defect it has), filler, and the trailing SHA-256 over all before it.

import { createHash } from 'node:crypto';
import { NorFlash, SECTOR } from './flash';
import type { ImageState } from '../../src/ports/ota';

const APP_MAGIC = [0x53, 0x4d, 0x47, 0x57, 0x53, 0x49, 0x4d, 0x01]; // "SMGWSIM" 1
const ENTRY = 16;
const STATES: ImageState[] = ['new', 'pending-verify', 'valid', 'invalid', 'aborted', 'undefined'];
/** Slot size in the simulator: large enough for tests' images, small enough to keep a state directory light. */
const SIM_SLOT_SIZE = 64 * SECTOR;

/** What a simulated firmware image says of itself. */
export interface SimApp {
  version: string;
  /** A defect for tests: "meter" (the new firmware's meter reader hears nothing: its self-test fails). */
  defect?: 'meter';
}

/** A simulated app image of about `size` bytes (at least what its descriptor needs). */
export function buildSimApp(app: SimApp, size = 48 * 1024): Uint8Array {
  const descriptor = new TextEncoder().encode(JSON.stringify(app));
  const total = Math.max(size, 16 + descriptor.length + 32);
  const b = new Uint8Array(total);
  b.set(APP_MAGIC, 0);
  new DataView(b.buffer).setUint32(8, total, true);
  new DataView(b.buffer).setUint32(12, descriptor.length, true);
  b.set(descriptor, 16);
  // Filler that differs per version: images of two versions differ all over, as real ones do.
  let x = 0x9e3779b9;
  for (const c of descriptor) x = Math.imul(x ^ c, 0x01000193) >>> 0;
  for (let i = 16 + descriptor.length; i < total - 32; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  b.set(createHash('sha256').update(b.subarray(0, total - 32)).digest(), total - 32);
  return b;
}

/** The descriptor of the app image at the start of `read`'s bytes, or null when it does not check. */
export function checkSimApp(read: (offset: number, length: number) => Uint8Array, slotSize: number): SimApp | null {
  const head = read(0, 16);
  for (let i = 0; i < 8; i++) if (head[i] !== APP_MAGIC[i]) return null;
  const view = new DataView(head.buffer, head.byteOffset, 16);
  const total = view.getUint32(8, true);
  const descriptorLength = view.getUint32(12, true);
  if (total > slotSize || total < 16 + descriptorLength + 32) return null;
  const image = read(0, total);
  const digest = createHash('sha256').update(image.subarray(0, total - 32)).digest();
  if (!digest.equals(image.subarray(total - 32))) return null;
  try {
    const app = JSON.parse(new TextDecoder().decode(image.subarray(16, 16 + descriptorLength))) as SimApp;
    return typeof app.version === 'string' ? app : null;
  } catch {
    return null;
  }
}

interface Entry {
  generation: number;
  slot: number;
  state: ImageState;
}

function fnv(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const c of b) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/** What booted: the slot, its state after the bootloader, and the app it holds. */
export interface BootedImage {
  slot: number;
  state: ImageState;
  app: SimApp;
}

/** A device's app slots and otadata on one NOR flash. */
export class SimOtaFlash {
  readonly flash: NorFlash;
  readonly slotSize: number;

  /** `flash` of 2 + 2 x slotSize/4096 sectors; a fresh one gets `factory` in slot 0. */
  constructor(flash: NorFlash, factory: SimApp, slotSize = SIM_SLOT_SIZE) {
    if (flash.size !== 2 * SECTOR + 2 * slotSize) throw new RangeError(`OTA flash must be ${2 * SECTOR + 2 * slotSize} bytes`);
    this.flash = flash;
    this.slotSize = slotSize;
    if (!checkSimApp((o, l) => this.readSlot(0, o, l), slotSize) && !checkSimApp((o, l) => this.readSlot(1, o, l), slotSize)) {
      // As esptool flashes a new device: the app in ota_0, otadata erased.
      const image = buildSimApp(factory);
      for (let s = 0; s < Math.ceil(image.length / SECTOR); s++) flash.erase(2 + s);
      flash.write(2 * SECTOR, image);
    }
  }

  static size(slotSize = SIM_SLOT_SIZE): number {
    return 2 * SECTOR + 2 * slotSize;
  }

  slotBase(slot: number): number {
    return 2 * SECTOR + slot * this.slotSize;
  }

  readSlot(slot: number, offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.slotSize) throw new RangeError(`slot read ${offset}+${length} outside ${this.slotSize} bytes`);
    return this.flash.read(this.slotBase(slot) + offset, length);
  }

  /** The entry that counts, or null (otadata erased: ota_0 boots). */
  current(): Entry | null {
    let best: Entry | null = null;
    for (let sector = 0; sector < 2; sector++) {
      const b = this.flash.read(sector * SECTOR, ENTRY);
      const view = new DataView(b.buffer, b.byteOffset, ENTRY);
      if (view.getUint32(12, true) !== fnv(b.subarray(0, 12))) continue;
      const e: Entry = { generation: view.getUint32(0, true), slot: b[4], state: STATES[b[5]] ?? 'undefined' };
      if (e.slot > 1 || e.generation === 0xffffffff) continue;
      if (!best || e.generation > best.generation) best = e;
    }
    return best;
  }

  /** Writes a new entry into the sector that does not hold the current one. */
  setEntry(slot: number, state: ImageState): void {
    const cur = this.current();
    let sector = 0;
    if (cur) {
      const b0 = this.flash.read(0, ENTRY);
      const v0 = new DataView(b0.buffer, b0.byteOffset, ENTRY);
      const inZero = v0.getUint32(12, true) === fnv(b0.subarray(0, 12)) && v0.getUint32(0, true) === cur.generation;
      sector = inZero ? 1 : 0;
    }
    const b = new Uint8Array(ENTRY);
    const view = new DataView(b.buffer);
    view.setUint32(0, (cur?.generation ?? 0) + 1, true);
    b[4] = slot;
    b[5] = STATES.indexOf(state);
    view.setUint32(12, fnv(b.subarray(0, 12)), true);
    this.flash.erase(sector);
    this.flash.write(sector * SECTOR, b);
  }

  /** The app in `slot`, or null when its image does not check (as esp_ota_end and the bootloader check it). */
  appIn(slot: number): SimApp | null {
    return checkSimApp((o, l) => this.readSlot(slot, o, l), this.slotSize);
  }

  /**
   * The bootloader at power-on: picks the slot, moves its state on (new ->
   * pending-verify; pending-verify -> the other slot: rollback), and answers
   * what boots. Throws PowerCut (hosts/sim/power.ts) when the power fails while it writes otadata.
   */
  boot(): BootedImage {
    const cur = this.current();
    if (!cur) {
      for (const slot of [0, 1]) {
        const app = this.appIn(slot);
        if (app) return { slot, state: 'undefined', app };
      }
      throw new Error('bootloader: no bootable image in either slot');
    }
    const other = 1 - cur.slot;
    let slot = cur.slot;
    let state = cur.state;
    if (state === 'new' && this.appIn(slot)) {
      this.setEntry(slot, 'pending-verify');
      state = 'pending-verify';
    } else if (state !== 'valid' && state !== 'undefined') {
      // pending-verify: it booted and was not marked valid before this boot; invalid, aborted: given up.
      slot = other;
      state = 'valid';
      if (this.appIn(slot)) this.setEntry(slot, state);
    }
    let app = this.appIn(slot);
    if (!app) {
      // An image that does not check is never started: the other one is, if it does.
      slot = 1 - slot;
      app = this.appIn(slot);
      if (!app) throw new Error('bootloader: no bootable image in either slot');
      this.setEntry(slot, 'valid');
      state = 'valid';
    }
    return { slot, state, app };
  }
}
