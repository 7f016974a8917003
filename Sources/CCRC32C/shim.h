// CRC32C with the processor's crc32 instruction (SSE 4.2), for Swift, which has no intrinsic for
// it; EventLog's CRC32C.swift calls it where the processor has the instruction.
#ifndef TUNNEL_REGISTRY_CCRC32C_H
#define TUNNEL_REGISTRY_CCRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

// 1 when the processor has the crc32 instruction, else 0.
static inline int tunnel_registry_crc32c_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

// The CRC32C of `count` bytes at `bytes` continuing from `initial` (the CRC of the bytes before),
// as CRC32C.tableChecksum(_:continuing:) computes it. Only when tunnel_registry_crc32c_available().
__attribute__((target("sse4.2")))
static inline uint32_t tunnel_registry_crc32c(uint32_t initial, const void *bytes, size_t count) {
    const unsigned char *next = (const unsigned char *)bytes;
    uint64_t crc = (uint32_t)~initial;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, next, 8);
        crc = __builtin_ia32_crc32di(crc, word);
        next += 8;
        count -= 8;
    }
    uint32_t tail = (uint32_t)crc;
    while (count > 0) {
        tail = __builtin_ia32_crc32qi(tail, *next);
        next += 1;
        count -= 1;
    }
    return ~tail;
}
#else
static inline int tunnel_registry_crc32c_available(void) { return 0; }
static inline uint32_t tunnel_registry_crc32c(uint32_t initial, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return initial;
}
#endif

#endif
