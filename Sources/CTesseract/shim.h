// Tesseract 5 and leptonica from Debian (libtesseract-dev; tesseract-ocr-chi-sim at run time): the ID card OCR.
#ifndef YIDAI_CTESSERACT_SHIM_H
#define YIDAI_CTESSERACT_SHIM_H

#include <tesseract/capi.h>
#include <leptonica/allheaders.h>

#endif
