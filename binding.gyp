# Native kernels. Each SIMD family is compiled three times (AVX-512, AVX2+FMA,
# portable scalar) into separate static libraries; the addon picks one at run
# time (native/src/dispatch.cc), so a single build runs on any x86-64.
{
  "variables": {
    "common_cflags": ["-O3", "-fopenmp", "-std=c++17", "-fno-math-errno", "-Wall", "-Wno-unused-function", "-Wno-unknown-pragmas"]
  },
  "targets": [
    {
      "target_name": "st_isa_avx512",
      "type": "static_library",
      "sources": ["native/src/isa/avx512.cc"],
      "include_dirs": ["native/include", "native/src"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["<@(common_cflags)", "-fexceptions", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"]
    },
    {
      "target_name": "st_isa_avx2",
      "type": "static_library",
      "sources": ["native/src/isa/avx2.cc"],
      "include_dirs": ["native/include", "native/src"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["<@(common_cflags)", "-fexceptions", "-mavx2", "-mfma", "-mf16c"]
    },
    {
      "target_name": "st_isa_scalar",
      "type": "static_library",
      "sources": ["native/src/isa/scalar.cc"],
      "include_dirs": ["native/include", "native/src"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["<@(common_cflags)", "-fexceptions"]
    },
    {
      "target_name": "sparsetrain_native",
      "dependencies": ["st_isa_avx512", "st_isa_avx2", "st_isa_scalar"],
      "sources": [
        "native/binding/addon.cc",
        "native/binding/bind_gemm.cc",
        "native/binding/bind_conv.cc",
        "native/binding/bind_pool_norm.cc",
        "native/binding/bind_elementwise.cc",
        "native/binding/bind_misc.cc",
        "native/src/dispatch.cc",
        "native/src/threads.cc",
        "native/src/gemm/gemm.cc",
        "native/src/conv/conv.cc",
        "native/src/conv/conv_implicit.cc",
        "native/src/conv/conv_chvec.cc",
        "native/src/conv/convpool_isa.cc",
        "native/src/pool/pool.cc",
        "native/src/norm/batchnorm.cc",
        "native/src/elementwise/elementwise.cc",
        "native/src/misc/rng.cc",
        "native/src/misc/optim.cc",
        "native/src/misc/copy.cc",
        "native/src/misc/select.cc",
        "native/src/misc/malloc_policy.cc",
        "native/src/elementwise/reduce.cc",
        "native/src/elementwise/softmax.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/include", "native/src"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["<@(common_cflags)", "-fexceptions"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
