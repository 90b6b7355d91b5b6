#!/bin/sh
# Builds and runs fma_peak.cc (one core's FMA peak) with the machine's compiler.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out="${FMA_BENCH_DIR:-$here/../../build/fma_bench}"
mkdir -p "$out"
if grep -q avx512f /proc/cpuinfo; then flags="-mavx512f -mfma"; else flags="-mavx2 -mfma"; fi
g++ -O3 $flags -o "$out/fma_peak" "$here/fma_peak.cc"
"$out/fma_peak"
