// libtorch's optimisers with parameter groups whose learning rate, momentum/betas and weight decay the
// TypeScript schedules change at every step.
#include "binding.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <sstream>
#include <type_traits>

namespace findstroke {

namespace {

const napi_type_tag kOptimizerTag = {0x3e8d1f0a7b6c5d42ULL, 0x81f7e6d5c4b3a291ULL};

torch::optim::Optimizer& optimizerOf(Args& a, size_t i) {
  if (a.has(i) && a[i].IsExternal()) {
    auto external = a[i].As<Napi::External<torch::optim::Optimizer>>();
    if (external.CheckTypeTag(&kOptimizerTag)) return *external.Data();
  }
  a.fail(i, "an Optimizer");
}

using StateMap = std::remove_reference_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;

// The key of a parameter's state: libtorch keys it by the parameter's TensorImpl, as the pointer printed to a
// string up to 1.13 and as the pointer itself since 2.x. A template, so that only the matching branch compiles.
template <typename Key = StateMap::key_type>
Key stateKey(const at::Tensor& param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << param.unsafeGetTensorImpl();
    return key.str();
  } else {
    return param.unsafeGetTensorImpl();
  }
}

double field(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

std::vector<at::Tensor> groupParams(Args& a, const Napi::Object& group) {
  Napi::Value params = group.Get("params");
  if (!params.IsArray()) throw Napi::TypeError::New(a.env, "optimizer group: expected params: Tensor[]");
  auto array = params.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t k = 0; k < array.Length(); ++k) {
    const at::Tensor* t = unwrapTensor(array.Get(k));
    if (!t) throw Napi::TypeError::New(a.env, "optimizer group: params must all be live Tensors");
    out.push_back(*t);
  }
  return out;
}

void applyAdamW(torch::optim::AdamWOptions& o, const Napi::Object& g) {
  o.lr(field(g, "lr", o.lr()));
  o.betas({field(g, "beta1", std::get<0>(o.betas())), field(g, "beta2", std::get<1>(o.betas()))});
  o.eps(field(g, "eps", o.eps()));
  o.weight_decay(field(g, "weightDecay", o.weight_decay()));
}

void applySGD(torch::optim::SGDOptions& o, const Napi::Object& g) {
  o.lr(field(g, "lr", o.lr()));
  o.momentum(field(g, "momentum", o.momentum()));
  o.weight_decay(field(g, "weightDecay", o.weight_decay()));
  Napi::Value nesterov = g.Get("nesterov");
  if (nesterov.IsBoolean()) o.nesterov(nesterov.As<Napi::Boolean>().Value());
}

// optimizer(kind 'adamw'|'sgd', groups: {params, lr, beta1, beta2, eps, weightDecay, momentum, nesterov}[])
Napi::Value create(Args& a) {
  const std::string kind = a.string(0);
  if (!a.has(1) || !a[1].IsArray()) a.fail(1, "an array of parameter groups");
  auto groups = a[1].As<Napi::Array>();
  std::vector<torch::optim::OptimizerParamGroup> paramGroups;
  for (uint32_t k = 0; k < groups.Length(); ++k) {
    auto g = groups.Get(k).As<Napi::Object>();
    auto params = groupParams(a, g);
    if (kind == "adamw") {
      auto o = std::make_unique<torch::optim::AdamWOptions>();
      applyAdamW(*o, g);
      paramGroups.emplace_back(std::move(params), std::move(o));
    } else if (kind == "sgd") {
      auto o = std::make_unique<torch::optim::SGDOptions>(0.01);
      applySGD(*o, g);
      paramGroups.emplace_back(std::move(params), std::move(o));
    } else {
      throw std::invalid_argument("unknown optimizer '" + kind + "' (adamw, sgd)");
    }
  }
  torch::optim::Optimizer* optimizer;
  if (kind == "adamw") optimizer = new torch::optim::AdamW(std::move(paramGroups), torch::optim::AdamWOptions());
  else optimizer = new torch::optim::SGD(std::move(paramGroups), torch::optim::SGDOptions(0.01));
  auto external = Napi::External<torch::optim::Optimizer>::New(
      a.env, optimizer, [](Napi::Env, torch::optim::Optimizer* o) { delete o; });
  external.TypeTag(&kOptimizerTag);
  return external;
}

Napi::Value setGroup(Args& a) {
  auto& optimizer = optimizerOf(a, 0);
  const int64_t index = a.integer(1);
  if (index < 0 || index >= static_cast<int64_t>(optimizer.param_groups().size()))
    throw std::out_of_range("optimizer has no parameter group " + std::to_string(index));
  if (!a.has(2) || !a[2].IsObject()) a.fail(2, "group options");
  auto g = a[2].As<Napi::Object>();
  auto& options = optimizer.param_groups()[index].options();
  if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&options)) applyAdamW(*adamw, g);
  else if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options)) applySGD(*sgd, g);
  return a.undefined();
}

// The state of one parameter as named tensors (AdamW: step, the count of its updates, with exp_avg, exp_avg_sq
// and, with amsgrad, max_exp_avg_sq; SGD: momentum_buffer), or null before its first update.
Napi::Value paramState(Args& a, torch::optim::Optimizer& optimizer, const at::Tensor& param) {
  auto& states = optimizer.state();
  auto found = states.find(stateKey(param));
  if (found == states.end()) return a.env.Null();
  auto out = Napi::Object::New(a.env);
  auto set = [&](const char* name, const at::Tensor& t) {
    if (t.defined()) out.Set(name, wrapTensor(a.env, t));
  };
  if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(found->second.get())) {
    out.Set("step", Napi::Number::New(a.env, static_cast<double>(adamw->step())));
    set("exp_avg", adamw->exp_avg());
    set("exp_avg_sq", adamw->exp_avg_sq());
    set("max_exp_avg_sq", adamw->max_exp_avg_sq());
  } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(found->second.get())) {
    set("momentum_buffer", sgd->momentum_buffer());
  }
  return out;
}

// optimizerState(o): each parameter's state, groups in order, parameters in group order.
Napi::Value state(Args& a) {
  auto& optimizer = optimizerOf(a, 0);
  auto out = Napi::Array::New(a.env);
  uint32_t k = 0;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) out.Set(k++, paramState(a, optimizer, p));
  return out;
}

// A copy of `saved` (a moment of `param`, e.g. read from a checkpoint) in the parameter's dtype, device and layout.
at::Tensor stateLike(const at::Tensor& param, const Napi::Object& saved, const char* name, size_t index) {
  const at::Tensor* t = unwrapTensor(saved.Get(name));
  if (!t) throw std::invalid_argument("optimizer state of parameter " + std::to_string(index) + ": expected " + name + ": Tensor");
  if (t->sizes() != param.sizes())
    throw std::invalid_argument("optimizer state of parameter " + std::to_string(index) + ": " + name + " has shape " + c10::str(t->sizes()) +
                                ", the parameter " + c10::str(param.sizes()));
  return at::empty_like(param, at::MemoryFormat::Preserve).copy_(*t);
}

// optimizerLoadState(o, states): puts back each parameter's state as optimizerState reads it (null: none yet),
// groups in order, parameters in group order; the tensors are copied.
Napi::Value loadState(Args& a) {
  auto& optimizer = optimizerOf(a, 0);
  if (!a.has(1) || !a[1].IsArray()) a.fail(1, "an array of parameter states");
  auto saved = a[1].As<Napi::Array>();
  std::vector<at::Tensor> params;
  for (auto& group : optimizer.param_groups()) params.insert(params.end(), group.params().begin(), group.params().end());
  if (saved.Length() != params.size())
    throw std::invalid_argument("optimizer state of " + std::to_string(saved.Length()) + " parameters for an optimizer of " + std::to_string(params.size()));
  const bool adamw = dynamic_cast<torch::optim::AdamW*>(&optimizer) != nullptr;
  StateMap states;
  for (uint32_t k = 0; k < saved.Length(); ++k) {
    Napi::Value value = saved.Get(k);
    if (value.IsNull() || value.IsUndefined()) continue;
    if (!value.IsObject()) throw Napi::TypeError::New(a.env, "optimizer state of parameter " + std::to_string(k) + ": expected an object or null");
    auto s = value.As<Napi::Object>();
    const at::Tensor& p = params[k];
    const auto key = stateKey(p);
    if (adamw) {
      auto state = std::make_unique<torch::optim::AdamWParamState>();
      Napi::Value step = s.Get("step");
      if (!step.IsNumber()) throw Napi::TypeError::New(a.env, "optimizer state of parameter " + std::to_string(k) + ": expected step: number");
      state->step(step.As<Napi::Number>().Int64Value());
      state->exp_avg(stateLike(p, s, "exp_avg", k));
      state->exp_avg_sq(stateLike(p, s, "exp_avg_sq", k));
      if (s.Has("max_exp_avg_sq")) state->max_exp_avg_sq(stateLike(p, s, "max_exp_avg_sq", k));
      states[key] = std::move(state);
    } else {
      auto state = std::make_unique<torch::optim::SGDParamState>();
      state->momentum_buffer(stateLike(p, s, "momentum_buffer", k));
      states[key] = std::move(state);
    }
  }
  // Replaced only once every parameter's state was read, so that a bad one leaves the optimiser as it was.
  optimizer.state() = std::move(states);
  return a.undefined();
}

}  // namespace

void registerOptimizers(Napi::Env env, Napi::Object exports) {
  define(env, exports, "optimizer", create);
  define(env, exports, "optimizerSetGroup", setGroup);
  define(env, exports, "optimizerState", state);
  define(env, exports, "optimizerLoadState", loadState);
  define(env, exports, "optimizerStep", [](Args& a) -> Napi::Value {
    optimizerOf(a, 0).step();
    return a.undefined();
  });
  define(env, exports, "optimizerZeroGrad", [](Args& a) -> Napi::Value {
    for (auto& group : optimizerOf(a, 0).param_groups())
      for (auto& p : group.params()) p.mutable_grad().reset();
    return a.undefined();
  });
  define(env, exports, "optimizerDispose", [](Args& a) -> Napi::Value {
    optimizerOf(a, 0).param_groups().clear();
    optimizerOf(a, 0).state().clear();
    return a.undefined();
  });
}

}  // namespace findstroke
