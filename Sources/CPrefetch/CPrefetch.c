// The target's functions are static inline in include/CPrefetch.h; SwiftPM needs a source file.
#include "CPrefetch.h"
