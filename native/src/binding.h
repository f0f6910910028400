// Shared plumbing of the findstroke libtorch binding: how tensors cross into JavaScript, how arguments
// are read, and how every libtorch exception becomes a JavaScript Error instead of aborting the process.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace findstroke {

// A tensor crosses into JavaScript as a type-tagged External owning a heap at::Tensor.
// dispose() resets it early; the finalizer is only a backstop for handles that are never disposed.
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);

// The live tensor a value holds, or nullptr for anything else (including a disposed tensor).
const at::Tensor* unwrapTensor(const Napi::Value& value);

at::ScalarType parseDtype(const std::string& name);
std::string dtypeName(at::ScalarType type);
// 'contiguous' (NCHW for 4-D tensors) or 'channels_last' (NHWC in memory, NCHW in shape).
at::MemoryFormat parseMemoryFormat(const std::string& name);

// Typed access to one binding call's arguments; each accessor throws a TypeError naming the argument.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info), env(info.Env()) {}

  bool has(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined() && !info_[i].IsNull(); }
  Napi::Value operator[](size_t i) const { return info_[i]; }

  at::Tensor& tensor(size_t i) const;
  at::Tensor* tensorOrNull(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  std::vector<int64_t> ints(size_t i) const;
  double number(size_t i) const;
  int64_t integer(size_t i) const;
  bool flag(size_t i) const;
  std::string string(size_t i) const;
  at::Scalar scalar(size_t i) const;
  at::ScalarType dtype(size_t i, at::ScalarType fallback) const;
  at::MemoryFormat memoryFormat(size_t i) const;

  Napi::Value ret(at::Tensor t) const { return wrapTensor(env, std::move(t)); }
  Napi::Value ret(const std::tuple<at::Tensor, at::Tensor>& pair) const;
  Napi::Value undefined() const { return env.Undefined(); }

  [[noreturn]] void fail(size_t i, const std::string& expected) const;

 private:
  const Napi::CallbackInfo& info_;

 public:
  Napi::Env env;
};

using Binding = Napi::Value (*)(Args&);

// Throws when libtorch's tracer is recording (jitTrace): a value read into JavaScript would enter the graph as a
// constant, and the graph would compute with the traced input's numbers for every later input.
void refuseWhileTracing(const char* what);

// Registers a binding under `name`; the wrapper converts c10::Error and std::exception to JS errors.
void define(Napi::Env env, Napi::Object exports, const char* name, Binding binding);

// The glibc malloc settings the addon applied when it loaded (applied is false when it left the defaults),
// so that a reference run can be given the same ones.
struct AllocatorTuning {
  bool applied;
  int mmapMax;
  int trimThreshold;
};
extern AllocatorTuning allocatorTuning;

void registerTensors(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
void registerOptimizers(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
void registerJit(Napi::Env env, Napi::Object exports);

}  // namespace findstroke
