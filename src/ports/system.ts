// System port: what the portal reports about the machine and the one thing it
// asks of it, a restart.

/**
 * The firmware's own heap, as the XS engine counts it: slots (the fixed-size
 * cells objects, strings and closures are made of) and chunks (the variable
 * part: string bodies, array buffers, arrays' items). These are the figures
 * that run out on the device; the host's free memory says nothing about them.
 */
export interface HeapFigures {
  slotsUsed: number;
  slotsTotal: number;
  chunkBytesUsed: number;
  chunkBytesTotal: number;
}

export interface SystemPort {
  /** The XS heap's use, or undefined where the host cannot tell (the simulator: its heap is Node's, not the device's). */
  heap(): HeapFigures | undefined;
  /** Whether the setup button was held when the device powered up (forces the access point). */
  setupButtonHeld(): boolean;
  /** Restarts the device: this boot ends, the next one starts as after a power cycle. */
  restart(): void;
}
