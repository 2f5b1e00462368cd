// The XS heap figures the lin build traces (hosts/moddable/lin/main.ts), summed
// up over a run, and what they mean for the ESP32's `creation` (docs/esp32.md).

export interface HeapSample {
  slots: number;
  slotsPeak: number;
  slotsReserved: number;
  slotBytes: number;
  chunks: number;
  chunksPeak: number;
  chunksReserved: number;
}

export interface HeapFigures {
  samples: number;
  /** The most slots in use at once (garbage not yet collected included), and the most the heap held. */
  slotsPeak: number;
  slotsReserved: number;
  slotBytes: number;
  chunksPeak: number;
  chunksReserved: number;
}

export function heapFigures(samples: HeapSample[]): HeapFigures {
  const max = (f: (s: HeapSample) => number) => samples.reduce((m, s) => Math.max(m, f(s)), 0);
  return {
    samples: samples.length,
    slotsPeak: max((s) => s.slotsPeak),
    slotsReserved: max((s) => s.slotsReserved),
    slotBytes: samples[0]?.slotBytes ?? 0,
    chunksPeak: max((s) => s.chunksPeak),
    chunksReserved: max((s) => s.chunksReserved),
  };
}
