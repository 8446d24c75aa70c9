#!/usr/bin/env bash
# Install the Debian packages luutru needs, only when something is missing.
# tesseract-ocr + tesseract-ocr-vie: OCR; tesseract-ocr-osd: page orientation; fonts-dejavu-core: Vietnamese glyphs for the sample
# scans (fonts-liberation 1.x draws boxes for them); python3-venv: the project's .venv.
# With --with-browser (make test): chromium and chromium-driver for the web page tests.
# With --with-bench (make bench): ghostscript, the baseline pdfium is measured against, the
# Noto fonts the quality benches render pages in, and wrk, the load generator of bench/load.py.
set -euo pipefail

missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx vie; then
  missing+=(tesseract-ocr-vie)
fi
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
  missing+=(tesseract-ocr-eng)
fi
if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx osd; then
  missing+=(tesseract-ocr-osd)
fi
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || missing+=(fonts-dejavu-core)
# Liberation Serif has the metrics of Times New Roman, which Decree 30/2020 asks documents to be set in.
[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || missing+=(fonts-liberation2)
command -v fc-match >/dev/null 2>&1 || missing+=(fontconfig)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
if [ "${1:-}" = "--with-bench" ]; then
  command -v gs >/dev/null 2>&1 || missing+=(ghostscript)
  # The OCR and metadata benches render pages in Noto Serif too.
  [ -f /usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf ] || missing+=(fonts-noto-core)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
