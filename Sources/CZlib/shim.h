// zlib (Debian: zlib1g-dev): Content-Encoding gzip for pages and API answers, from deflate streams kept and reset.
#ifndef YIDAI_CZLIB_SHIM_H
#define YIDAI_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2 is a macro in zlib.h, which Swift does not import.
static inline int yidai_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int yidai_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
