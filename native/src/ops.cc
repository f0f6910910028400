// The tensor operations that CNN training and inference need, each a direct call into ATen.
// Argument order follows the ATen signature so that the TypeScript face can document it once.
#include "binding.h"

namespace findstroke {

namespace {

// Binary ops accept a tensor or a number as their second operand.
template <at::Tensor (*WithTensor)(const at::Tensor&, const at::Tensor&),
          at::Tensor (*WithScalar)(const at::Tensor&, const at::Scalar&)>
Napi::Value binary(Args& a) {
  if (at::Tensor* other = a.tensorOrNull(1)) return a.ret(WithTensor(a.tensor(0), *other));
  return a.ret(WithScalar(a.tensor(0), a.scalar(1)));
}

at::Tensor addT(const at::Tensor& x, const at::Tensor& y) { return at::add(x, y); }
at::Tensor addS(const at::Tensor& x, const at::Scalar& y) { return at::add(x, y); }
at::Tensor subT(const at::Tensor& x, const at::Tensor& y) { return at::sub(x, y); }
at::Tensor subS(const at::Tensor& x, const at::Scalar& y) { return at::sub(x, y); }
at::Tensor mulT(const at::Tensor& x, const at::Tensor& y) { return at::mul(x, y); }
at::Tensor mulS(const at::Tensor& x, const at::Scalar& y) { return at::mul(x, y); }
at::Tensor divT(const at::Tensor& x, const at::Tensor& y) { return at::div(x, y); }
at::Tensor divS(const at::Tensor& x, const at::Scalar& y) { return at::div(x, y); }
at::Tensor powT(const at::Tensor& x, const at::Tensor& y) { return at::pow(x, y); }
at::Tensor powS(const at::Tensor& x, const at::Scalar& y) { return at::pow(x, y); }
at::Tensor eqT(const at::Tensor& x, const at::Tensor& y) { return at::eq(x, y); }
at::Tensor eqS(const at::Tensor& x, const at::Scalar& y) { return at::eq(x, y); }
at::Tensor gtT(const at::Tensor& x, const at::Tensor& y) { return at::gt(x, y); }
at::Tensor gtS(const at::Tensor& x, const at::Scalar& y) { return at::gt(x, y); }
at::Tensor ltT(const at::Tensor& x, const at::Tensor& y) { return at::lt(x, y); }
at::Tensor ltS(const at::Tensor& x, const at::Scalar& y) { return at::lt(x, y); }
at::Tensor geT(const at::Tensor& x, const at::Tensor& y) { return at::ge(x, y); }
at::Tensor geS(const at::Tensor& x, const at::Scalar& y) { return at::ge(x, y); }
at::Tensor leT(const at::Tensor& x, const at::Tensor& y) { return at::le(x, y); }
at::Tensor leS(const at::Tensor& x, const at::Scalar& y) { return at::le(x, y); }
at::Tensor maximumT(const at::Tensor& x, const at::Tensor& y) { return at::maximum(x, y); }
at::Tensor maximumS(const at::Tensor& x, const at::Scalar& y) { return at::clamp_min(x, y); }
at::Tensor minimumT(const at::Tensor& x, const at::Tensor& y) { return at::minimum(x, y); }
at::Tensor minimumS(const at::Tensor& x, const at::Scalar& y) { return at::clamp_max(x, y); }

template <at::Tensor (*F)(const at::Tensor&)>
Napi::Value unary(Args& a) {
  return a.ret(F(a.tensor(0)));
}
at::Tensor neg(const at::Tensor& x) { return at::neg(x); }
at::Tensor exp(const at::Tensor& x) { return at::exp(x); }
at::Tensor log(const at::Tensor& x) { return at::log(x); }
at::Tensor sqrt(const at::Tensor& x) { return at::sqrt(x); }
at::Tensor abs(const at::Tensor& x) { return at::abs(x); }
at::Tensor relu(const at::Tensor& x) { return at::relu(x); }
at::Tensor sigmoid(const at::Tensor& x) { return at::sigmoid(x); }
at::Tensor tanh(const at::Tensor& x) { return at::tanh(x); }
at::Tensor logicalNot(const at::Tensor& x) { return at::logical_not(x); }

c10::optional<int64_t> optInt(const Args& a, size_t i) {
  return a.has(i) ? c10::optional<int64_t>(a.integer(i)) : c10::nullopt;
}

// Reductions: (t, dims?, keepdim?) — no dims reduces everything.
Napi::Value sum(Args& a) {
  if (!a.has(1)) return a.ret(at::sum(a.tensor(0)));
  return a.ret(at::sum(a.tensor(0), a.ints(1), a.has(2) && a.flag(2)));
}
Napi::Value mean(Args& a) {
  if (!a.has(1)) return a.ret(at::mean(a.tensor(0)));
  return a.ret(at::mean(a.tensor(0), a.ints(1), a.has(2) && a.flag(2)));
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  // Elementwise arithmetic and comparison.
  define(env, exports, "add", binary<addT, addS>);
  define(env, exports, "sub", binary<subT, subS>);
  define(env, exports, "mul", binary<mulT, mulS>);
  define(env, exports, "div", binary<divT, divS>);
  define(env, exports, "pow", binary<powT, powS>);
  define(env, exports, "eq", binary<eqT, eqS>);
  define(env, exports, "gt", binary<gtT, gtS>);
  define(env, exports, "lt", binary<ltT, ltS>);
  define(env, exports, "ge", binary<geT, geS>);
  define(env, exports, "le", binary<leT, leS>);
  define(env, exports, "maximum", binary<maximumT, maximumS>);
  define(env, exports, "minimum", binary<minimumT, minimumS>);
  define(env, exports, "neg", unary<neg>);
  define(env, exports, "exp", unary<exp>);
  define(env, exports, "log", unary<log>);
  define(env, exports, "sqrt", unary<sqrt>);
  define(env, exports, "abs", unary<abs>);
  define(env, exports, "relu", unary<relu>);
  define(env, exports, "sigmoid", unary<sigmoid>);
  define(env, exports, "tanh", unary<tanh>);
  define(env, exports, "logicalNot", unary<logicalNot>);
  define(env, exports, "clamp", [](Args& a) {
    c10::optional<at::Scalar> lo = a.has(1) ? c10::optional<at::Scalar>(a.scalar(1)) : c10::nullopt;
    c10::optional<at::Scalar> hi = a.has(2) ? c10::optional<at::Scalar>(a.scalar(2)) : c10::nullopt;
    return a.ret(at::clamp(a.tensor(0), lo, hi));
  });
  define(env, exports, "where", [](Args& a) { return a.ret(at::where(a.tensor(0), a.tensor(1), a.tensor(2))); });
  define(env, exports, "matmul", [](Args& a) { return a.ret(at::matmul(a.tensor(0), a.tensor(1))); });

  // In-place updates, recorded by autograd as in PyTorch (wrap parameter surgery in noGrad).
  define(env, exports, "fill_", [](Args& a) -> Napi::Value {
    a.tensor(0).fill_(a.scalar(1));
    return a.undefined();
  });
  define(env, exports, "mul_", [](Args& a) -> Napi::Value {
    a.tensor(0).mul_(a.scalar(1));
    return a.undefined();
  });
  define(env, exports, "relu_", [](Args& a) -> Napi::Value {
    at::relu_(a.tensor(0));
    return a.undefined();
  });
  define(env, exports, "add_", [](Args& a) -> Napi::Value {
    if (at::Tensor* other = a.tensorOrNull(1)) a.tensor(0).add_(*other, a.has(2) ? a.scalar(2) : at::Scalar(1));
    else a.tensor(0).add_(a.scalar(1));
    return a.undefined();
  });

  // Reductions and selection.
  define(env, exports, "sum", sum);
  define(env, exports, "mean", mean);
  define(env, exports, "std", [](Args& a) {
    return a.ret(at::std(a.tensor(0), a.ints(1), /*unbiased=*/a.has(3) && a.flag(3), a.has(2) && a.flag(2)));
  });
  define(env, exports, "max", [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.ret(at::max(a.tensor(0)));
    return a.ret(at::max(a.tensor(0), a.integer(1), a.has(2) && a.flag(2)));
  });
  define(env, exports, "min", [](Args& a) -> Napi::Value {
    if (!a.has(1)) return a.ret(at::min(a.tensor(0)));
    return a.ret(at::min(a.tensor(0), a.integer(1), a.has(2) && a.flag(2)));
  });
  define(env, exports, "argmax", [](Args& a) { return a.ret(at::argmax(a.tensor(0), optInt(a, 1), a.has(2) && a.flag(2))); });
  define(env, exports, "topk", [](Args& a) {
    return a.ret(at::topk(a.tensor(0), a.integer(1), a.has(2) ? a.integer(2) : -1, !a.has(3) || a.flag(3)));
  });
  define(env, exports, "sort", [](Args& a) {
    return a.ret(at::sort(a.tensor(0), a.has(1) ? a.integer(1) : -1, a.has(2) && a.flag(2)));
  });

  // Shape and indexing.
  define(env, exports, "reshape", [](Args& a) { return a.ret(at::reshape(a.tensor(0), a.ints(1))); });
  define(env, exports, "permute", [](Args& a) { return a.ret(a.tensor(0).permute(a.ints(1))); });
  define(env, exports, "transpose", [](Args& a) { return a.ret(at::transpose(a.tensor(0), a.integer(1), a.integer(2))); });
  define(env, exports, "flatten", [](Args& a) {
    return a.ret(at::flatten(a.tensor(0), a.has(1) ? a.integer(1) : 0, a.has(2) ? a.integer(2) : -1));
  });
  define(env, exports, "squeeze", [](Args& a) {
    return a.ret(a.has(1) ? at::squeeze(a.tensor(0), a.integer(1)) : at::squeeze(a.tensor(0)));
  });
  define(env, exports, "unsqueeze", [](Args& a) { return a.ret(at::unsqueeze(a.tensor(0), a.integer(1))); });
  define(env, exports, "expand", [](Args& a) { return a.ret(a.tensor(0).expand(a.ints(1))); });
  define(env, exports, "repeat", [](Args& a) { return a.ret(a.tensor(0).repeat(a.ints(1))); });
  define(env, exports, "flip", [](Args& a) { return a.ret(at::flip(a.tensor(0), a.ints(1))); });
  define(env, exports, "cat", [](Args& a) { return a.ret(at::cat(a.tensors(0), a.has(1) ? a.integer(1) : 0)); });
  define(env, exports, "stack", [](Args& a) { return a.ret(at::stack(a.tensors(0), a.has(1) ? a.integer(1) : 0)); });
  define(env, exports, "slice", [](Args& a) {
    return a.ret(at::slice(a.tensor(0), a.integer(1), optInt(a, 2), optInt(a, 3), a.has(4) ? a.integer(4) : 1));
  });
  define(env, exports, "select", [](Args& a) { return a.ret(at::select(a.tensor(0), a.integer(1), a.integer(2))); });
  define(env, exports, "indexSelect", [](Args& a) {
    return a.ret(at::index_select(a.tensor(0), a.integer(1), a.tensor(2)));
  });
  define(env, exports, "gather", [](Args& a) { return a.ret(at::gather(a.tensor(0), a.integer(1), a.tensor(2))); });
  define(env, exports, "oneHot", [](Args& a) { return a.ret(at::one_hot(a.tensor(0), a.integer(1))); });

  // Neural-network layers.
  define(env, exports, "conv2d", [](Args& a) {
    return a.ret(at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.integer(6)));
  });
  define(env, exports, "batchNorm", [](Args& a) {
    // (x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps); cudnn when available.
    return a.ret(at::batch_norm(a.tensor(0), a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4), a.flag(5),
                                a.number(6), a.number(7), true));
  });
  define(env, exports, "linear", [](Args& a) { return a.ret(at::linear(a.tensor(0), a.tensor(1), a.optTensor(2))); });
  define(env, exports, "maxPool2d", [](Args& a) {
    return a.ret(at::max_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.flag(5)));
  });
  define(env, exports, "avgPool2d", [](Args& a) {
    return a.ret(at::avg_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flag(4), a.flag(5)));
  });
  define(env, exports, "adaptiveAvgPool2d", [](Args& a) { return a.ret(at::adaptive_avg_pool2d(a.tensor(0), a.ints(1))); });
  define(env, exports, "adaptiveMaxPool2d", [](Args& a) {
    return a.ret(std::get<0>(at::adaptive_max_pool2d(a.tensor(0), a.ints(1))));
  });
  define(env, exports, "dropout", [](Args& a) { return a.ret(at::dropout(a.tensor(0), a.number(1), a.flag(2))); });
  define(env, exports, "pad", [](Args& a) { return a.ret(at::constant_pad_nd(a.tensor(0), a.ints(1), a.number(2))); });
  define(env, exports, "interpolate", [](Args& a) {
    // (x, [outH, outW], mode 'bilinear'|'nearest'|'bicubic', alignCorners)
    const std::string mode = a.string(2);
    const auto size = a.ints(1);
    if (mode == "bilinear") return a.ret(at::upsample_bilinear2d(a.tensor(0), size, a.flag(3)));
    if (mode == "bicubic") return a.ret(at::upsample_bicubic2d(a.tensor(0), size, a.flag(3)));
    if (mode == "nearest") return a.ret(at::upsample_nearest2d(a.tensor(0), size));
    throw std::invalid_argument("interpolate: unknown mode '" + mode + "' (bilinear, bicubic, nearest)");
  });
  define(env, exports, "softmax", [](Args& a) { return a.ret(at::softmax(a.tensor(0), a.integer(1))); });
  define(env, exports, "logSoftmax", [](Args& a) { return a.ret(at::log_softmax(a.tensor(0), a.integer(1))); });

  // Losses: reduction is 'mean' | 'sum' | 'none'.
  define(env, exports, "crossEntropy", [](Args& a) {
    // (logits, target, classWeight?, reduction, labelSmoothing)
    const std::string reduction = a.string(3);
    const int64_t r = reduction == "none" ? at::Reduction::None : reduction == "sum" ? at::Reduction::Sum : at::Reduction::Mean;
    return a.ret(at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), r, -100, a.number(4)));
  });
  define(env, exports, "mseLoss", [](Args& a) { return a.ret(at::mse_loss(a.tensor(0), a.tensor(1))); });
  define(env, exports, "binaryCrossEntropyWithLogits", [](Args& a) {
    return a.ret(at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1)));
  });
}

}  // namespace findstroke
