// Elementwise kernels: thread splitting and broadcasting around the per-ISA inner kernels
// of elementwise_kernel.inc.
#include "elementwise/elementwise.h"
#include "elementwise/ew_isa.h"
#include "elementwise/parallel.h"
#include "elementwise/strided.h"

namespace st {

// Transcendental ops cost ~10x an add: count them as such for the serial threshold.
static int64_t unary_work(UnaryOp op, int64_t n) {
  switch (op) {
    case UnaryOp::Exp: case UnaryOp::Log: case UnaryOp::Sigmoid: case UnaryOp::Tanh: case UnaryOp::PowScalar:
    case UnaryOp::Log1p: case UnaryOp::Expm1: return n * 8;
    default: return n;
  }
}

void ew_unary(UnaryOp op, const float* x, float* y, int64_t n, float alpha) {
  auto f = ew_isa().unary_range;
  parallel_ranges(n, unary_work(op, n), 64, [&](int64_t b, int64_t e) { f((int)op, x + b, y + b, e - b, alpha); });
}

void ew_binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
               void* out, const int64_t* shape, int ndim) {
  StridedPlan<2> plan;
  const int64_t* strides[2] = {a_strides, b_strides};
  plan.make(shape, strides, ndim);
  if (plan.total == 0) return;
  auto run = ew_isa().binary_run;
  const int64_t esize = is_comparison(op) ? 1 : 4;
  const int64_t work = op == BinaryOp::Pow ? plan.total * 8 : plan.total;
  const int64_t sa = plan.st[0][plan.nd - 1], sb = plan.st[1][plan.nd - 1];
  parallel_ranges(plan.total, work, 64, [&](int64_t beg, int64_t end) {
    plan.for_each_run(beg, end, [&](const int64_t* off, int64_t pos, int64_t len) {
      run((int)op, a + off[0], sa, b + off[1], sb, (char*)out + pos * esize, len);
    });
  });
}

void ew_where(const uint8_t* cond, const int64_t* c_strides, const float* a, const int64_t* a_strides,
              const float* b, const int64_t* b_strides, float* out, const int64_t* shape, int ndim) {
  StridedPlan<3> plan;
  const int64_t* strides[3] = {c_strides, a_strides, b_strides};
  plan.make(shape, strides, ndim);
  if (plan.total == 0) return;
  const int64_t sc = plan.st[0][plan.nd - 1], sa = plan.st[1][plan.nd - 1], sb = plan.st[2][plan.nd - 1];
  parallel_ranges(plan.total, plan.total, 64, [&](int64_t beg, int64_t end) {
    plan.for_each_run(beg, end, [&](const int64_t* off, int64_t pos, int64_t len) {
      const uint8_t* c = cond + off[0];
      const float* pa = a + off[1];
      const float* pb = b + off[2];
      float* o = out + pos;
      if (sc == 1 && sa == 1 && sb == 1)
        for (int64_t i = 0; i < len; i++) o[i] = c[i] ? pa[i] : pb[i];
      else
        for (int64_t i = 0; i < len; i++) o[i] = c[i * sc] ? pa[i * sa] : pb[i * sb];
    });
  });
}

void ew_clamp(const float* x, float* y, int64_t n, float lo, float hi) {
  auto f = ew_isa().clamp_range;
  parallel_ranges(n, n, 64, [&](int64_t b, int64_t e) { f(x + b, y + b, e - b, lo, hi); });
}

void ew_axpy(int64_t n, float a, const float* x, float* y) {
  auto f = ew_isa().axpy_range;
  parallel_ranges(n, n, 64, [&](int64_t b, int64_t e) { f(e - b, a, x + b, y + b); });
}

}  // namespace st
