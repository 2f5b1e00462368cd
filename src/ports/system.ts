// System port: what the portal reports about the machine and the one thing it
// asks of it, a restart.

export interface SystemPort {
  /** Free heap in bytes (the ESP32's free memory; on the desktop the host's), or null when unknown. */
  freeHeap(): number | null;
  /** Whether the setup button was held when the device powered up (forces the access point). */
  setupButtonHeld(): boolean;
  /** Restarts the device: this boot ends, the next one starts as after a power cycle. */
  restart(): void;
}
