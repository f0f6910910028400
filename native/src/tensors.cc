// Tensor handles, argument reading, creation, conversion to and from typed arrays, and autograd state.
#include "binding.h"

#include <cstring>

namespace findstroke {

namespace {

// Distinguishes findstroke tensor handles from any other External (napi_type_tag_object).
const napi_type_tag kTensorTag = {0x6a1f2c9e3b5d4e71ULL, 0x9c0d8b7a6f5e4d3cULL};

struct Handle {
  at::Tensor tensor;
  int64_t bytes;
};

int64_t byteSize(const at::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }

void release(Napi::Env env, Handle* handle) {
  if (handle->bytes) Napi::MemoryManagement::AdjustExternalMemory(env, -handle->bytes);
  handle->bytes = 0;
  handle->tensor = at::Tensor();
}

Handle* handleOf(const Napi::Value& value) {
  if (!value.IsExternal()) return nullptr;
  auto external = value.As<Napi::External<Handle>>();
  if (!external.CheckTypeTag(&kTensorTag)) return nullptr;
  return external.Data();
}

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
const DtypeName kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"bfloat16", at::kBFloat16}, {"float16", at::kHalf},
    {"int64", at::kLong},    {"int32", at::kInt},      {"uint8", at::kByte},        {"bool", at::kBool},
};

}  // namespace

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  const int64_t bytes = byteSize(tensor);
  auto external = Napi::External<Handle>::New(env, new Handle{std::move(tensor), bytes}, [](Napi::Env env, Handle* h) {
    release(env, h);
    delete h;
  });
  external.TypeTag(&kTensorTag);
  if (bytes) Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return external;
}

const at::Tensor* unwrapTensor(const Napi::Value& value) {
  Handle* handle = handleOf(value);
  return handle && handle->tensor.defined() ? &handle->tensor : nullptr;
}

at::ScalarType parseDtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  throw std::invalid_argument("unknown dtype '" + name + "' (float32, float64, bfloat16, float16, int64, int32, uint8, bool)");
}

std::string dtypeName(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  return c10::toString(type);
}

at::MemoryFormat parseMemoryFormat(const std::string& name) {
  if (name == "contiguous") return at::MemoryFormat::Contiguous;
  if (name == "channels_last") return at::MemoryFormat::ChannelsLast;
  throw std::invalid_argument("unknown memory format '" + name + "' (contiguous, channels_last)");
}

void Args::fail(size_t i, const std::string& expected) const {
  throw Napi::TypeError::New(env, "argument " + std::to_string(i) + ": expected " + expected);
}

at::Tensor* Args::tensorOrNull(size_t i) const {
  Handle* handle = i < info_.Length() ? handleOf(info_[i]) : nullptr;
  if (!handle) return nullptr;
  if (!handle->tensor.defined()) throw Napi::Error::New(env, "argument " + std::to_string(i) + ": tensor was disposed");
  return &handle->tensor;
}

at::Tensor& Args::tensor(size_t i) const {
  at::Tensor* t = tensorOrNull(i);
  if (!t) fail(i, "a Tensor");
  return *t;
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (!has(i) || !info_[i].IsArray()) fail(i, "an array of Tensors");
  auto array = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    const at::Tensor* t = unwrapTensor(array.Get(k));
    if (!t) fail(i, "an array of live Tensors (element " + std::to_string(k) + ")");
    out.push_back(*t);
  }
  return out;
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (has(i) && info_[i].IsNumber()) return {integer(i)};
  if (!has(i) || !info_[i].IsArray()) fail(i, "an array of integers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) fail(i, "an array of integers");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

double Args::number(size_t i) const {
  if (!has(i) || !info_[i].IsNumber()) fail(i, "a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

int64_t Args::integer(size_t i) const {
  if (!has(i) || !info_[i].IsNumber()) fail(i, "an integer");
  return info_[i].As<Napi::Number>().Int64Value();
}

bool Args::flag(size_t i) const {
  if (!has(i) || !info_[i].IsBoolean()) fail(i, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i) const {
  if (!has(i) || !info_[i].IsString()) fail(i, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

at::Scalar Args::scalar(size_t i) const {
  if (has(i) && info_[i].IsBoolean()) return at::Scalar(flag(i));
  return at::Scalar(number(i));
}

at::ScalarType Args::dtype(size_t i, at::ScalarType fallback) const {
  return has(i) ? parseDtype(string(i)) : fallback;
}

at::MemoryFormat Args::memoryFormat(size_t i) const {
  return has(i) ? parseMemoryFormat(string(i)) : at::MemoryFormat::Contiguous;
}

Napi::Value Args::ret(const std::tuple<at::Tensor, at::Tensor>& pair) const {
  auto array = Napi::Array::New(env, 2);
  array.Set(0u, wrapTensor(env, std::get<0>(pair)));
  array.Set(1u, wrapTensor(env, std::get<1>(pair)));
  return array;
}

namespace {

at::TensorOptions options(const Args& a, size_t dtypeArg, size_t deviceArg) {
  auto opts = at::TensorOptions().dtype(a.dtype(dtypeArg, at::kFloat));
  if (a.has(deviceArg)) opts = opts.device(at::Device(a.string(deviceArg)));
  return opts;
}

// fromArray(typedArray, shape, dtype): copies host data into a new CPU tensor.
// bfloat16 and float16 data arrive as their raw 16-bit patterns in a Uint16Array.
Napi::Value fromArray(Args& a) {
  if (!a.has(0) || !a[0].IsTypedArray()) a.fail(0, "a typed array");
  auto array = a[0].As<Napi::TypedArray>();
  const auto shape = a.ints(1);
  const auto type = a.dtype(2, at::kFloat);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  const size_t bytes = t.numel() * t.element_size();
  if (bytes != array.ByteLength())
    throw std::invalid_argument("fromArray: " + std::to_string(array.ByteLength()) + " bytes of data for shape " +
                                c10::str(t.sizes()) + " of " + dtypeName(type) + " (" + std::to_string(bytes) +
                                " bytes)");
  const auto* data = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  if (bytes) std::memcpy(t.data_ptr(), data, bytes);
  return a.ret(t);
}

// toArray(t): a copy of the data as a typed array; 16-bit floats widen to Float32Array.
Napi::Value toArray(Args& a) {
  refuseWhileTracing("toArray");
  at::Tensor t = a.tensor(0).detach().to(at::kCPU);
  switch (t.scalar_type()) {
    case at::kBFloat16:
    case at::kHalf: t = t.to(at::kFloat); break;
    case at::kBool: t = t.to(at::kByte); break;
    default: break;
  }
  t = t.contiguous();
  const size_t bytes = t.numel() * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(a.env, bytes);
  if (bytes) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  const size_t n = t.numel();
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(a.env, n, buffer, 0);
    case at::kDouble: return Napi::Float64Array::New(a.env, n, buffer, 0);
    case at::kLong: return Napi::BigInt64Array::New(a.env, n, buffer, 0);
    case at::kInt: return Napi::Int32Array::New(a.env, n, buffer, 0);
    case at::kByte: return Napi::Uint8Array::New(a.env, n, buffer, 0);
    default: throw std::invalid_argument("toArray: unsupported dtype " + dtypeName(t.scalar_type()));
  }
}

Napi::Value describe(Args& a) {
  const at::Tensor& t = a.tensor(0);
  auto out = Napi::Object::New(a.env);
  auto shape = Napi::Array::New(a.env, t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(a.env, t.size(d)));
  out.Set("shape", shape);
  out.Set("dtype", dtypeName(t.scalar_type()));
  out.Set("device", t.device().str());
  out.Set("requiresGrad", t.requires_grad());
  out.Set("inference", t.is_inference());
  return out;
}

}  // namespace

void registerTensors(Napi::Env env, Napi::Object exports) {
  define(env, exports, "fromArray", fromArray);
  define(env, exports, "toArray", toArray);
  define(env, exports, "describe", describe);
  define(env, exports, "isTensor", [](Args& a) -> Napi::Value { return Napi::Boolean::New(a.env, handleOf(a[0]) != nullptr); });
  define(env, exports, "dispose", [](Args& a) -> Napi::Value {
    if (Handle* h = handleOf(a[0])) release(a.env, h);
    return a.undefined();
  });
  define(env, exports, "isDisposed", [](Args& a) -> Napi::Value {
    Handle* h = handleOf(a[0]);
    if (!h) a.fail(0, "a Tensor");
    return Napi::Boolean::New(a.env, !h->tensor.defined());
  });
  define(env, exports, "item", [](Args& a) -> Napi::Value {
    refuseWhileTracing("item");
    return Napi::Number::New(a.env, a.tensor(0).item<double>());
  });
  define(env, exports, "numel", [](Args& a) -> Napi::Value { return Napi::Number::New(a.env, a.tensor(0).numel()); });
  // How many times the data was changed in place (autograd's version counter); not kept by inference tensors.
  define(env, exports, "tensorVersion", [](Args& a) -> Napi::Value {
    return Napi::Number::New(a.env, static_cast<double>(a.tensor(0)._version()));
  });

  // Creation: (shape, dtype?, device?)
  define(env, exports, "zeros", [](Args& a) { return a.ret(at::zeros(a.ints(0), options(a, 1, 2))); });
  define(env, exports, "ones", [](Args& a) { return a.ret(at::ones(a.ints(0), options(a, 1, 2))); });
  define(env, exports, "full", [](Args& a) { return a.ret(at::full(a.ints(0), a.scalar(1), options(a, 2, 3))); });
  define(env, exports, "rand", [](Args& a) { return a.ret(at::rand(a.ints(0), options(a, 1, 2))); });
  define(env, exports, "randn", [](Args& a) { return a.ret(at::randn(a.ints(0), options(a, 1, 2))); });
  define(env, exports, "randint", [](Args& a) {
    return a.ret(at::randint(a.integer(0), a.integer(1), a.ints(2), options(a, 3, 4).dtype(a.dtype(3, at::kLong))));
  });
  define(env, exports, "randperm", [](Args& a) { return a.ret(at::randperm(a.integer(0), at::kLong)); });
  define(env, exports, "arange", [](Args& a) {
    return a.ret(at::arange(a.scalar(0), a.scalar(1), a.scalar(2), options(a, 3, 4)));
  });

  // Conversion and copies.
  define(env, exports, "to", [](Args& a) {
    const at::Tensor& t = a.tensor(0);
    at::Device device = a.has(1) ? at::Device(a.string(1)) : t.device();
    return a.ret(t.to(device, a.dtype(2, t.scalar_type())));
  });
  // (t, memoryFormat?): a tensor laid out in memoryFormat (t itself when it already is).
  define(env, exports, "contiguous", [](Args& a) { return a.ret(a.tensor(0).contiguous(a.memoryFormat(1))); });
  define(env, exports, "isContiguous", [](Args& a) -> Napi::Value {
    return Napi::Boolean::New(a.env, a.tensor(0).is_contiguous(a.memoryFormat(1)));
  });
  define(env, exports, "clone", [](Args& a) { return a.ret(a.tensor(0).clone()); });
  define(env, exports, "detach", [](Args& a) { return a.ret(a.tensor(0).detach()); });
  define(env, exports, "copy_", [](Args& a) -> Napi::Value {
    a.tensor(0).copy_(a.tensor(1));
    return a.undefined();
  });
  // setData(t, source): t takes source's data, layout and device but stays the same autograd variable, so
  // everything holding t (a module, an optimiser and its state) sees the change (Python's `t.data = source`).
  // Unlike Python's, it counts as a change of t's data (its version), which is what a compiled graph holding
  // t's values checks; an inference tensor keeps no version.
  define(env, exports, "setData", [](Args& a) -> Napi::Value {
    auto t = a.tensor(0);
    t.set_data(a.tensor(1));
    if (!t.is_inference()) t.unsafeGetTensorImpl()->bump_version();
    return a.undefined();
  });

  // Autograd state.
  define(env, exports, "setRequiresGrad", [](Args& a) -> Napi::Value {
    a.tensor(0).set_requires_grad(a.flag(1));
    return a.undefined();
  });
  define(env, exports, "grad", [](Args& a) -> Napi::Value {
    const at::Tensor& g = a.tensor(0).grad();
    return g.defined() ? a.ret(g) : a.env.Null();
  });
  define(env, exports, "clearGrad", [](Args& a) -> Napi::Value {
    a.tensor(0).mutable_grad().reset();
    return a.undefined();
  });
  define(env, exports, "retainGrad", [](Args& a) -> Napi::Value {
    a.tensor(0).retain_grad();
    return a.undefined();
  });
  define(env, exports, "backward", [](Args& a) -> Napi::Value {
    c10::optional<at::Tensor> gradient = a.optTensor(1);
    a.tensor(0).backward(gradient.value_or(at::Tensor()), a.has(2) && a.flag(2));
    return a.undefined();
  });
}

}  // namespace findstroke
