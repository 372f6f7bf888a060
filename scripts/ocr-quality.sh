#!/bin/sh
# Measures the OCR on the generated photo set (Tests/ProvidersTests/OCRPhotos, made by scripts/make-ocr-photos.py):
# prints ID number / name / address / validity accuracy, the time per card and the slowest read.
# Needs what the test command installs (libtesseract-dev, tesseract-ocr-chi-sim).
set -e
cd "$(dirname "$0")/.."
report=$(mktemp)
swift build --build-tests >/dev/null
OCR_QUALITY_REPORT="$report" swift test --skip-build --filter "OCRQualityTests/generatedSet" >/dev/null 2>&1 || true
if [ -s "$report" ]; then cat "$report"; else echo "the measurement did not run (see: swift test --skip-build --filter OCRQualityTests)"; exit 1; fi
rm -f "$report"
