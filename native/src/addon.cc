#include "binding.h"

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

}  // namespace findstroke

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  findstroke::registerTensors(env, exports);
  findstroke::registerOps(env, exports);
  findstroke::registerOptimizers(env, exports);
  findstroke::registerRuntime(env, exports);
  return exports;
}

NODE_API_MODULE(findstroke_torch, Init)
