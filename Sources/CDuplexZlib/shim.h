#ifndef DUPLEX_ZLIB_SHIM_H
#define DUPLEX_ZLIB_SHIM_H
#include <zlib.h>
#endif
