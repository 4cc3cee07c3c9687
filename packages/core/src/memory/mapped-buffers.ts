// Buffers in memory of their own, so that a flood's Buffers go back to the system when they die.
//
// Node serves a small Buffer from a shared slab (Buffer.poolSize), and glibc serves a slab of the
// default 8 KB from its heap. A flood leaves thousands of dead slabs between the few allocations
// made meanwhile that live on, and glibc gives back only the heap's top: the function manager kept
// 10-20 MB of free heap after each flood (docs/performance.md, round 11; malloc_trim, which Node
// does not expose, returned it). A slab above glibc's mmap threshold is mapped for itself and
// unmapped when its Buffer is collected. glibc raises that threshold by itself after such a free,
// which sends the next slabs back to the heap: the tunable fixes it.

/** glibc maps every allocation at or above this; below it (socket reads of 64 KB) stays in its heap. */
export const MMAP_THRESHOLD = 128 * 1024;

/** The environment that fixes the threshold (read by glibc at process start; other libcs ignore it). */
export const MAPPED_BUFFERS_ENV: Readonly<Record<string, string>> = { GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${MMAP_THRESHOLD}` };

/**
 * The slab size: above the threshold, so each slab is mapped. A Buffer under half of it comes from
 * a slab, and a larger one is above the threshold: every Buffer is then mapped. (Slabs of 128 KB
 * left the Buffers of 64-128 KB in the heap, and it grew as before.)
 */
export const BUFFER_POOL_SIZE = 2 * MMAP_THRESHOLD;

/** Makes the next Buffer slabs BUFFER_POOL_SIZE long. A process started with MAPPED_BUFFERS_ENV then maps each one. */
export function useMappedBufferSlabs(): void {
  Buffer.poolSize = BUFFER_POOL_SIZE;
}
