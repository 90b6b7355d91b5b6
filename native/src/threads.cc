#include "threads.h"
#include <omp.h>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace st {
static int initial_threads() {
  const char* env = std::getenv("SPARSETRAIN_THREADS");
  if (env && *env) {
    int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return omp_get_num_procs();
}
static int g_threads = [] { int n = initial_threads(); omp_set_num_threads(n); return n; }();

int num_threads() { return g_threads; }
void set_num_threads(int n) {
  if (n < 1 || n > 1024) throw std::invalid_argument("setThreads: thread count must be 1..1024, got " + std::to_string(n));
  g_threads = n;
  omp_set_num_threads(n);
}
}  // namespace st
