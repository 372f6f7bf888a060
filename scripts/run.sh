#!/usr/bin/env bash
# Runs Yidai on this machine: embedded SQLite under ./data, sandbox providers, demo data.
#   scripts/run.sh [--port 8080] [--hostname 0.0.0.0]
set -euo pipefail
# Tesseract without OpenMP threads of its own: the OCR queue reads one card per core (BENCHMARKS.md, ID-card OCR).
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
cd "$(dirname "$0")/.."
port=8080
host=0.0.0.0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --hostname) host="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# The contract PDF needs pango + cairo (headers to build) and Droid Sans Fallback (a CJK face with TrueType outlines,
# which cairo subsets to the glyphs used); the pages use Noto CJK. Installed once on a fresh machine.
need_apt=()
pkg-config --exists pangocairo 2>/dev/null || need_apt+=(libpango1.0-dev libcairo2-dev pkg-config)
pkg-config --exists libqrencode 2>/dev/null || need_apt+=(libqrencode-dev)
pkg-config --exists libbrotlienc libbrotlidec 2>/dev/null || need_apt+=(libbrotli-dev)
pkg-config --exists zlib 2>/dev/null || need_apt+=(zlib1g-dev)
pkg-config --exists jemalloc 2>/dev/null || need_apt+=(libjemalloc-dev)  # the server's allocator
# The ID card OCR: Tesseract (headers to build) and its Simplified Chinese model (to read).
pkg-config --exists tesseract 2>/dev/null || need_apt+=(libtesseract-dev)
ls /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-chi-sim)
fc-list 2>/dev/null | grep -qi "noto.*cjk" || need_apt+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep -qi "droid sans fallback" || need_apt+=(fonts-droid-fallback)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} (apt-get)…"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -x .build/release/yidai ] || [ -n "$(find Sources Package.swift -newer .build/release/yidai -print -quit 2>/dev/null)" ]; then
  echo "Building Yidai (release; the first build takes about 10 minutes)…"
  swift build -c release --product yidai
fi
mkdir -p data
ip=$(hostname -I 2>/dev/null | awk '{print $1}')
cat <<MSG

  易贷 Yidai is starting on embedded SQLite (data/yidai.sqlite), with SANDBOX outside services.
  Open on a phone or in a browser's mobile view:
      http://localhost:${port}/            (on this machine)
      http://${ip:-<this-machine>}:${port}/      (from a phone on the same network)
      http://localhost:${port}/?cm=SZ-0001&ch=poster   (as if scanned from customer manager SZ-0001's poster)
  Try the sandbox persons: sign in with 13800000001 (P01 张伟, approved) … 13800000011 (P11 孙浩, referred);
  read the SMS codes at http://localhost:${port}/sandbox/sms and pick "使用测试样卡 P01" on the ID-card page.
  Staff workbench: http://localhost:${port}/console
  Demo staff logins (password yidai-demo): sz-cm1 sz-cm2 sz-head wh-cm1 wh-cm2 wh-head sh-cm1 sh-cm2 sh-head risk1 risk2 admin auditor
  Their second factor (sandbox only): TOTP secret YIDAIDEMOTOTPSECRETYIDAIDEMO2345 (base32) in any authenticator app.

MSG
exec .build/release/yidai serve --hostname "$host" --port "$port"
