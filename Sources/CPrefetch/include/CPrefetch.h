#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Starts loading the cache line holding `address` for reading, without waiting for it (a hint:
/// any address is safe, nothing is dereferenced). The replay tool's fold prefetches the hash
/// table slots and entries of records a few records ahead.
static inline void cprefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
