/*
 * The XS machine's own heap figures, read from the machine: slots (every
 * object, property and closure variable is one) and chunk bytes (strings,
 * ArrayBuffers, array items, closures' code). `creation` in manifest.json fixes
 * the reserved sizes on the device; these say how much of them is in use and
 * the most that ever was (peaks count garbage not yet collected, which is
 * what the heap must hold between collections).
 *
 * The counters are fields of txMachine that XS keeps in every build, release
 * included (xsAll.h), unlike Moddable's instrumentation, which exists only in
 * instrumented builds.
 */
#include "xsAll.h"
#include "xsmc.h"

/* [slots, slotsPeak, slotsReserved, slotBytes, chunks, chunksPeak, chunksReserved] */
void xs_heap_stats(xsMachine *the)
{
	txSize figures[7];
	int i;
	xsmcVars(1);
	if (xsmcArgc > 0 && xsmcTest(xsArg(0)))
		xsCollectGarbage();
	/* Read them all before allocating the answer, which moves them. */
	figures[0] = the->currentHeapCount;
	figures[1] = the->peakHeapCount;
	figures[2] = the->maximumHeapCount;
	figures[3] = (txSize)sizeof(txSlot);
	figures[4] = the->currentChunksSize;
	figures[5] = the->peakChunksSize;
	figures[6] = the->maximumChunksSize;
	xsmcSetNewArray(xsResult, 7);
	for (i = 0; i < 7; i++) {
		xsmcSetNumber(xsVar(0), (xsNumberValue)figures[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
}
