{
  "targets": [{
    "target_name": "findstroke_torch",
    "sources": ["src/addon.cc", "src/tensors.cc", "src/ops.cc", "src/optim.cc", "src/runtime.cc", "src/distributed.cc", "src/jit.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")", "<!@(node libtorch.cjs include)"],
    "libraries": ["<!@(node libtorch.cjs libs)"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++20", "-fexceptions", "-frtti", "-O2", "-Wno-deprecated-declarations", "-Wno-unused-parameter"],
    "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "<!@(node libtorch.cjs defines)"]
  }, {
    "target_name": "findstroke_jpeg",
    "sources": ["jpeg/decode.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")"],
    "libraries": ["-ljpeg"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O3"],
    "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"]
  }]
}
