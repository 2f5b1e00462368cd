declare module 'xs-heap' {
  export interface XsHeapStats {
    /** Slots in use (live and not yet collected, or live only after a collection). */
    slots: number;
    slotsPeak: number;
    /** Slots the machine has: `creation.heap` plus what it grew by. */
    slotsReserved: number;
    /** sizeof(txSlot): 16 on the ESP32, 32 on a 64-bit host. */
    slotBytes: number;
    /** Chunk heap bytes in use, the peak, and reserved (`creation.chunk`, plus growth). */
    chunks: number;
    chunksPeak: number;
    chunksReserved: number;
  }
  /** `collect`: run the garbage collector first. */
  export default function heapStats(collect?: boolean): XsHeapStats;
}
