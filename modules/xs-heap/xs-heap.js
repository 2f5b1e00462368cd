/*
 * The XS heap's figures (xs-heap.c): slots and chunk bytes in use, their
 * peaks and what is reserved. heapStats(true) collects garbage first, so that
 * `slots` and `chunks` are what is live.
 */
export default function heapStats(collect) {
	const f = native("xs_heap_stats").call(this, collect);
	return { slots: f[0], slotsPeak: f[1], slotsReserved: f[2], slotBytes: f[3], chunks: f[4], chunksPeak: f[5], chunksReserved: f[6] };
}
