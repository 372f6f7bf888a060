// Pango (text layout, Chinese shaping through HarfBuzz and fontconfig) over cairo's PDF surface.
// Debian: libpango1.0-dev libcairo2-dev (headers), fonts-noto-cjk (the font the contract uses).
#ifndef YIDAI_CPANGOCAIRO_SHIM_H
#define YIDAI_CPANGOCAIRO_SHIM_H

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

// Macros Swift cannot import.
static inline int yidai_pango_scale(void) { return PANGO_SCALE; }
static inline void yidai_g_object_unref(void *object) { g_object_unref(object); }

#endif
