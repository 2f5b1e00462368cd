declare module 'ota-boot' {
  /** The running slot's state as the bootloader keeps it. */
  export function runningState(): 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined';
  export function runningSlot(): string;
  export function markValid(): void;
  /** Marks the running image invalid and restarts into the other slot. */
  export function rollback(): void;
  export function inactiveSize(): number;
  /** At most 16 KB of the inactive slot. */
  export function readInactive(offset: number, length: number): ArrayBuffer;
}
declare module 'ota' {
  /** Moddable's ESP32 OTA writer (build/devices/esp32/modules/ota): esp_ota_begin on the next update partition. */
  export default class OTA {
    constructor();
    write(data: ArrayBuffer | Uint8Array): void;
    cancel(): void;
    /** esp_ota_end and esp_ota_set_boot_partition. */
    complete(): void;
  }
}
