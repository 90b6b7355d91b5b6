// Thread count for all kernels (OpenMP). Default: SPARSETRAIN_THREADS, else the core count.
#pragma once
namespace st {
int num_threads();
void set_num_threads(int n);  // n >= 1
}  // namespace st
