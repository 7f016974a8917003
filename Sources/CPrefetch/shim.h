// A cache prefetch hint for Swift, which has no intrinsic for it: the projection's fold loads
// the lease a record touches a few records ahead (Registry's Projection+Prefetch.swift).
#ifndef TUNNEL_REGISTRY_CPREFETCH_H
#define TUNNEL_REGISTRY_CPREFETCH_H

static inline void tunnel_registry_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
