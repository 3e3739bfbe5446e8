# Types for the compiled build of vm/_patterns.py (Cython's pure Python mode,
# as vm/_core.pxd explains). Compiled, the matchers `compile_patterns` builds
# are C functions (their closures C structs): a receive calls one per message
# looked at, so they are the scan's inner loop. No field or local needs a C
# type for that; these declarations let the hot core call in without a lookup.

cpdef compile_patterns(tuple patterns)
cpdef bint mentions(pattern, ref) except -1
cpdef bint all_mention(tuple patterns, ref) except -1
cpdef check_timeout(timeout)
