// libqrencode (Debian: libqrencode-dev): a real QR encoder for the staff enrolment code and the managers' codes.
#ifndef YIDAI_CQRENCODE_SHIM_H
#define YIDAI_CQRENCODE_SHIM_H

#include <qrencode.h>

#endif
