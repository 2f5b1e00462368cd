// OTA port: the two app slots and the bootloader's view of them. One slot
// runs; the other takes the next image. After complete() the next boot starts
// the new image as "pending-verify": if it is not marked valid before the
// boot after that, the bootloader goes back to the previous image (ESP-IDF's
// app rollback). On the ESP32: Moddable's ota module writes the slot, the
// native ota-boot module marks valid and rolls back; in the simulator a model
// of the flash's two slots and otadata (simulator/world/ota-flash.ts).

/** A slot's state as the bootloader keeps it (ESP-IDF's esp_ota_img_states_t). */
export type ImageState = 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined';

export interface OtaPort {
  /** The hardware images must be signed for ("esp32", "lin", "sim"): the header's target. */
  readonly hardware: string;
  /** Most bytes an image may have (the inactive slot's size). */
  readonly slotSize: number;
  /**
   * Whether a write that a restart interrupted can go on where it stopped:
   * open(size, offset) with offset > 0. Where not (the ESP32's ota module
   * erases the slot when it begins), an interrupted write starts again.
   */
  readonly resumable: boolean;
  /** The running slot's name and state ("pending-verify" on a new image's first boot, until markValid). */
  running(): { slot: string; state: ImageState };
  /** The slot the next image goes to. */
  inactiveSlot(): string;
  /**
   * Opens the inactive slot for an image of `size` bytes: from its start
   * (offset 0: what it held is lost), or after `offset` bytes written before
   * (resumable only).
   */
  open(size: number, offset: number): void;
  /** Appends bytes to the open slot. */
  write(bytes: Uint8Array): void;
  /** Reads back the inactive slot (the updater hashes what was written, not what was received). */
  read(offset: number, length: number): Uint8Array;
  /** Ends the write and makes the inactive slot the one the next boot starts. Throws when the slot holds no bootable image. */
  complete(): void;
  /** Abandons the open write; the boot slot stays as it was. */
  cancel(): void;
  /** The running image passed its self-test: the bootloader keeps it. */
  markValid(): void;
  /** Marks the running image invalid and restarts into the other slot. */
  rollback(): void;
}
