// Flash port: the firmware's own data partition (the reading log), with NOR
// rules: erase sets a whole sector to FF, programming can only clear bits.

export interface FlashPort {
  /** Bytes in the partition, a multiple of sectorSize. */
  readonly size: number;
  /** Erase unit in bytes (4096 on the ESP32). */
  readonly sectorSize: number;
  read(offset: number, length: number): Uint8Array;
  /** Programs bytes; a bit that is 0 cannot become 1 without an erase. */
  write(offset: number, bytes: Uint8Array): void;
  /** Sets sector `sector` (0-based) to FF. */
  erase(sector: number): void;
}
