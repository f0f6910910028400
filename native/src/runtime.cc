// Process-wide settings of libtorch: threads, seeding, gradient and inference mode, autocast, devices, allocator.
#include "binding.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <mutex>

namespace findstroke {

namespace {

// Autocast on one device type. libtorch 2.4 replaced the CPU- and CUDA-specific functions with one per device
// type and warns at run time when the old ones are called.
void setDeviceAutocast(at::DeviceType device, bool enabled, at::ScalarType type) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  if (enabled) at::autocast::set_autocast_dtype(device, type);
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == at::kCPU) {
    if (enabled) at::autocast::set_autocast_cpu_dtype(type);
    at::autocast::set_cpu_enabled(enabled);
  } else {
    if (enabled) at::autocast::set_autocast_gpu_dtype(type);
    at::autocast::set_enabled(enabled);
  }
#endif
}

bool deviceAutocast(at::DeviceType device) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

// setAutocast(enabled, dtype?) turns CPU (and CUDA, when present) autocast on or off, as Python's
// torch.autocast does on entry and exit; leaving it clears the cast-weight cache.
Napi::Value setAutocast(Args& a) {
  const bool enabled = a.flag(0);
  const at::ScalarType type = a.dtype(1, at::kBFloat16);
  if (enabled) {
    setDeviceAutocast(at::kCPU, true, type);
    if (torch::cuda::is_available()) setDeviceAutocast(at::kCUDA, true, type);
    at::autocast::increment_nesting();
  } else {
    setDeviceAutocast(at::kCPU, false, type);
    setDeviceAutocast(at::kCUDA, false, type);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  }
  return a.undefined();
}

// The default generator of the device named by argument i (the CPU's when absent).
at::Generator generatorOf(Args& a, size_t i) {
  return at::globalContext().defaultGenerator(a.has(i) ? at::Device(a.string(i)) : at::Device(at::kCPU));
}

// NNPACK, which libtorch 2.x tries for NCHW float convolutions, is left out, as in Debian's libtorch 1.13 (built
// without it), so that every libtorch runs the same oneDNN convolutions; where NNPACK cannot initialise (the
// 2-core development VM) libtorch 2.x also warns at every such convolution. The switch exists from 2.x on.
template <typename Context>
auto leaveOutNnpack(Context& context, int) -> decltype(context.setUserEnabledNNPACK(false)) {
  context.setUserEnabledNNPACK(false);
}
template <typename Context>
void leaveOutNnpack(Context&, long) {}

}  // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  leaveOutNnpack(at::globalContext(), 0);
  define(env, exports, "setNumThreads", [](Args& a) -> Napi::Value {
    const int64_t n = a.integer(0);
    if (n < 1) throw std::invalid_argument("setNumThreads: need at least 1 thread");
    at::set_num_threads(static_cast<int>(n));
    return a.undefined();
  });
  define(env, exports, "getNumThreads", [](Args& a) -> Napi::Value { return Napi::Number::New(a.env, at::get_num_threads()); });
  define(env, exports, "manualSeed", [](Args& a) -> Napi::Value {
    at::manual_seed(static_cast<uint64_t>(a.integer(0)));
    return a.undefined();
  });
  // rngState(device?) and setRngState(state, device?): the generator's state as a uint8 tensor (a copy), so
  // that a resumed run draws the same random numbers (dropout masks) as the uninterrupted one.
  define(env, exports, "rngState", [](Args& a) -> Napi::Value {
    at::Generator generator = generatorOf(a, 0);
    std::lock_guard<std::mutex> lock(generator.mutex());
    return a.ret(generator.get_state());
  });
  define(env, exports, "setRngState", [](Args& a) -> Napi::Value {
    at::Generator generator = generatorOf(a, 1);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(a.tensor(0));
    return a.undefined();
  });
  define(env, exports, "setGradEnabled", [](Args& a) -> Napi::Value {
    at::GradMode::set_enabled(a.flag(0));
    return a.undefined();
  });
  define(env, exports, "isGradEnabled", [](Args& a) -> Napi::Value { return Napi::Boolean::New(a.env, at::GradMode::is_enabled()); });
  // inferenceMode(fn): fn() under c10::InferenceMode, held for exactly the call (RAII, released when fn
  // throws too). Leaner than no-grad: no autograd recording, no view or version tracking.
  define(env, exports, "inferenceMode", [](Args& a) -> Napi::Value {
    if (!a.has(0) || !a[0].IsFunction()) a.fail(0, "a function");
    c10::InferenceMode guard;
    return a[0].As<Napi::Function>().Call({});
  });
  define(env, exports, "setAutocast", setAutocast);
  define(env, exports, "isAutocastEnabled", [](Args& a) -> Napi::Value {
    return Napi::Boolean::New(a.env, deviceAutocast(at::kCPU) || deviceAutocast(at::kCUDA));
  });
  define(env, exports, "cudaDeviceCount", [](Args& a) -> Napi::Value {
    return Napi::Number::New(a.env, static_cast<double>(torch::cuda::device_count()));
  });
  // cudaRuntimeVersion(): the CUDA runtime this libtorch was built with (13000 for 13.0), 0 for a CPU build, whether
  // or not a GPU is visible: what tells "no GPU here" from "not a CUDA build". A CPU build's hooks throw: that is the answer.
  define(env, exports, "cudaRuntimeVersion", [](Args& a) -> Napi::Value {
    long version = 0;
    try {
      version = at::detail::getCUDAHooks().versionCUDART();
    } catch (const c10::Error&) {
    }
    return Napi::Number::New(a.env, static_cast<double>(version));
  });
  // cudaSynchronize(index?): waits for every kernel queued on the GPU (all of the current device's streams), as
  // torch.cuda.synchronize; a GPU computes asynchronously, so a timing must wait for it. Throws in a CPU build.
  define(env, exports, "cudaSynchronize", [](Args& a) -> Napi::Value {
    torch::cuda::synchronize(a.has(0) ? a.integer(0) : -1);
    return a.undefined();
  });
  define(env, exports, "version", [](Args& a) -> Napi::Value { return Napi::String::New(a.env, TORCH_VERSION); });
  define(env, exports, "allocatorTuning", [](Args& a) -> Napi::Value {
    if (!allocatorTuning.applied) return a.env.Null();
    auto out = Napi::Object::New(a.env);
    out.Set("mmapMax", allocatorTuning.mmapMax);
    out.Set("trimThreshold", allocatorTuning.trimThreshold);
    return out;
  });
  define(env, exports, "parallelInfo", [](Args& a) -> Napi::Value { return Napi::String::New(a.env, at::get_parallel_info()); });
}

}  // namespace findstroke
