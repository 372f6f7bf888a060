// jemalloc (Debian: libjemalloc-dev to build, libjemalloc2 to run): the server's memory allocator in place of glibc's
// malloc, as Vapor's own deployment template links it. Linked into the `yidai` executable only (the tests keep glibc's).
#ifndef YIDAI_CJEMALLOC_SHIM_H
#define YIDAI_CJEMALLOC_SHIM_H

#include <stddef.h>
#include <jemalloc/jemalloc.h>

// jemalloc's version ("5.3.0-0-g54eaed1d…"), or NULL when the allocator answering is not jemalloc's.
static inline const char *yidai_jemalloc_version(void) {
    const char *version = NULL;
    size_t size = sizeof(version);
    if (mallctl("version", &version, &size, NULL, 0) != 0) return NULL;
    return version;
}

#endif
