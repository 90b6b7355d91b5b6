#!/bin/sh
# Builds and runs the GEMM benchmark against OpenBLAS (bench only: the addon never links a BLAS).
#   bench/gemm/run.sh [threads,...] [reps] [filter]       e.g. bench/gemm/run.sh 1,2 7 square
# Extra compiler flags for our kernels (e.g. -DST_GEMM_AVX512_KC=384) can be passed in GEMM_CFLAGS.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${GEMM_BENCH_DIR:-$ROOT/build/gemm_bench}
mkdir -p "$OUT"
CXX=${CXX:-g++}
FLAGS="-O3 -fopenmp -std=c++17 -fno-math-errno -I$ROOT/native/src $GEMM_CFLAGS"
BLAS_INC=/usr/include/x86_64-linux-gnu/openblas-pthread
BLAS_LIB=/usr/lib/x86_64-linux-gnu/openblas-pthread
$CXX $FLAGS -DST_ISA_AVX512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c \
  -c "$ROOT/bench/gemm/isa_gemm.cc" -o "$OUT/isa_avx512.o" &
$CXX $FLAGS -DST_ISA_AVX2 -mavx2 -mfma -mf16c -c "$ROOT/bench/gemm/isa_gemm.cc" -o "$OUT/isa_avx2.o" &
$CXX $FLAGS -DST_ISA_SCALAR -c "$ROOT/bench/gemm/isa_gemm.cc" -o "$OUT/isa_scalar.o" &
wait
$CXX $FLAGS -I$BLAS_INC "$ROOT/bench/gemm/gemm_bench.cc" "$ROOT"/native/src/gemm/*.cc "$ROOT/native/src/dispatch.cc" \
  "$ROOT/native/src/threads.cc" "$OUT"/isa_*.o -L$BLAS_LIB -Wl,-rpath,$BLAS_LIB -lopenblas -o "$OUT/gemm_bench"
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
THREADS=${1:-1,2}
MAXT=$(echo "$THREADS" | tr ',' '\n' | sort -n | tail -1)
export OPENBLAS_NUM_THREADS=$MAXT
exec "$OUT/gemm_bench" "$THREADS" "${2:-7}" "${3:-}"
