#include "binding.h"

#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace findstroke {

static Napi::Value invoke(const Napi::CallbackInfo& info) {
  auto binding = reinterpret_cast<Binding>(info.Data());
  Args args(info);
  try {
    return binding(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

void define(Napi::Env env, Napi::Object exports, const char* name, Binding binding) {
  exports.Set(name, Napi::Function::New(env, invoke, name, reinterpret_cast<void*>(binding)));
}

AllocatorTuning allocatorTuning;

}  // namespace findstroke

// glibc serves each large tensor with a fresh mmap and unmaps it on free, so every training step
// page-faults its activations and gradients in again: measured 20% slower backward passes for
// ResNet-50 than in Python PyTorch. Keeping large blocks in the heap lets them be reused.
// FINDSTROKE_MALLOC_TUNING=0 leaves glibc's defaults.
static void tuneAllocator() {
#if defined(__GLIBC__)
  const char* setting = std::getenv("FINDSTROKE_MALLOC_TUNING");
  if (setting && std::strcmp(setting, "0") == 0) return;
  const findstroke::AllocatorTuning tuning{true, 0, 1 << 30};
  mallopt(M_MMAP_MAX, tuning.mmapMax);
  mallopt(M_TRIM_THRESHOLD, tuning.trimThreshold);
  findstroke::allocatorTuning = tuning;
#endif
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  findstroke::registerTensors(env, exports);
  findstroke::registerOps(env, exports);
  findstroke::registerOptimizers(env, exports);
  findstroke::registerRuntime(env, exports);
  findstroke::registerDistributed(env, exports);
  findstroke::registerJit(env, exports);
  return exports;
}

NODE_API_MODULE(findstroke_torch, Init)
