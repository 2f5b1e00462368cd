/*
 * Stand-in for the Moddable runtime's xsHost.h, for compiling native module
 * bindings on the desktop against the XS headers that @agoric/xsnap ships:
 * the c_* wrappers the device runtime defines, mapped to the C library.
 */
#include <stdlib.h>
#include <string.h>
#define c_calloc calloc
#define c_malloc malloc
#define c_free free
#define c_memset memset
#define c_memcpy memcpy
