// The system's random bytes in one call for a whole buffer: getrandom(2) on Linux (Swift's Glibc module does not
// import <sys/random.h>), arc4random_buf elsewhere. Header only: nothing to install.
#ifndef YIDAI_CSYSTEMRANDOM_SHIM_H
#define YIDAI_CSYSTEMRANDOM_SHIM_H

#include <stddef.h>
#include <errno.h>
#if defined(__linux__)
#include <sys/random.h>
#else
#include <stdlib.h>
#endif

// Fills `count` bytes at `buffer`; 0 when done, -1 when the system has no random source to give.
static inline int yidai_fill_random(void *buffer, size_t count) {
#if defined(__linux__)
    unsigned char *bytes = (unsigned char *)buffer;
    size_t done = 0;
    while (done < count) {
        ssize_t n = getrandom(bytes + done, count - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
#else
    arc4random_buf(buffer, count);
    return 0;
#endif
}

#endif
