/* Bytes the allocator has handed out, for tests that bound memory (never time).
 * Under AddressSanitizer malloc is ASan's, which mallinfo2() knows nothing of (it reads
 * 0): ask ASan's allocator instead. */
#ifndef TEST_HEAP_H
#define TEST_HEAP_H
#include <malloc.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
static inline size_t heap_in_use(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
static inline size_t heap_in_use(void) { struct mallinfo2 m = mallinfo2(); return m.uordblks + m.hblkhd; }
#endif

#endif
