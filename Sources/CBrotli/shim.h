// Brotli (Debian: libbrotli-dev): Content-Encoding br for pages and API answers when the client asks for it.
#ifndef YIDAI_CBROTLI_SHIM_H
#define YIDAI_CBROTLI_SHIM_H

#include <brotli/encode.h>
#include <brotli/decode.h>

#endif
