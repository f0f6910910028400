// A thin binding of PyTorch's collective library c10d: the TCPStore rendezvous, a process group (Gloo on
// CPUs; NCCL when the addon is built against a CUDA libtorch that ships it), and the collectives
// data-parallel training needs. Every call blocks until its collective is done; c10d's own timeouts bound
// each wait, and every c10d exception reaches JavaScript as an Error (see define(); for the differentiable
// all-reduce's backward, through the autograd engine, which rethrows it from backward()).
#include "binding.h"

#if defined(FINDSTROKE_GLOO)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#if defined(FINDSTROKE_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>

namespace findstroke {

namespace {

const napi_type_tag kStoreTag = {0x5a1c3e7d9b2f4a60ULL, 0x9e8d7c6b5a493827ULL};
const napi_type_tag kGroupTag = {0x7b4e2d1c0f9a8b76ULL, 0x1a2b3c4d5e6f7081ULL};
const napi_type_tag kReducerTag = {0x3c5d7e9f1a2b4c6dULL, 0x8e0f1a2b3c4d5e6fULL};

using StorePtr = c10::intrusive_ptr<c10d::Store>;

// What the collectives are called on: Gloo and NCCL are process groups in libtorch 1.x; from 2.0 they are
// backends (c10d::Backend) that a ProcessGroup dispatches to, and the addon calls the backend itself.
using Collectives =
    std::conditional_t<std::is_base_of_v<c10d::Backend, c10d::ProcessGroupGloo>, c10d::Backend, c10d::ProcessGroup>;
using GroupPtr = c10::intrusive_ptr<Collectives>;

// How autograd holds its nodes: std::shared_ptr in libtorch 1.x and early 2.x, c10::intrusive_ptr since.
using NodePtr = decltype(torch::autograd::impl::grad_accumulator(std::declval<const at::Tensor&>()));

template <typename T, typename... Args>
NodePtr makeNode(Args&&... args) {
  if constexpr (std::is_same_v<NodePtr, std::shared_ptr<torch::autograd::Node>>) return std::make_shared<T>(std::forward<Args>(args)...);
  else return c10::make_intrusive<T>(std::forward<Args>(args)...);
}

struct Group {
  GroupPtr group;
  int rank;
  int size;
};

template <typename T>
Napi::Value wrap(Napi::Env env, T* object, const napi_type_tag& tag) {
  auto external = Napi::External<T>::New(env, object, [](Napi::Env, T* o) { delete o; });
  external.TypeTag(&tag);
  return external;
}

template <typename T>
T& unwrap(Args& a, size_t i, const napi_type_tag& tag, const char* what) {
  if (a.has(i) && a[i].IsExternal()) {
    auto external = a[i].As<Napi::External<T>>();
    if (external.CheckTypeTag(&tag) && external.Data()) return *external.Data();
  }
  a.fail(i, what);
}

StorePtr& storeOf(Args& a, size_t i) { return unwrap<StorePtr>(a, i, kStoreTag, "a rendezvous store"); }

Group& groupOf(Args& a, size_t i) {
  Group& g = unwrap<Group>(a, i, kGroupTag, "a process group");
  if (!g.group) throw std::runtime_error("the process group was destroyed");
  return g;
}

std::chrono::milliseconds millis(Args& a, size_t i) { return std::chrono::milliseconds(a.integer(i)); }

std::string text(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::vector<std::string> strings(Args& a, size_t i) {
  if (!a.has(i) || !a[i].IsArray()) a.fail(i, "an array of strings");
  auto array = a[i].As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t k = 0; k < array.Length(); ++k) out.push_back(array.Get(k).ToString().Utf8Value());
  return out;
}

// store(host, port, isServer, worldSize, timeoutMs): rank 0 hosts the TCPStore, every rank is its client.
// Clients retry connecting until the timeout, so ranks may start in any order.
Napi::Value store(Args& a) {
  c10d::TCPStoreOptions options;
  const int64_t port = a.integer(1);
  if (port < 0 || port > 65535) throw std::invalid_argument("port must be 0..65535, got " + std::to_string(port));
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = a.flag(2);
  options.numWorkers = static_cast<std::size_t>(a.integer(3));
  // Joining is checked rank by rank by the caller, which can then name the ranks that did not come.
  options.waitWorkers = false;
  options.timeout = millis(a, 4);
  auto* handle = new StorePtr(c10::make_intrusive<c10d::TCPStore>(a.string(0), options));
  return wrap(a.env, handle, kStoreTag);
}

// processGroup(store, rank, size, backend 'gloo'|'nccl', timeoutMs, gloo address): connects every pair of ranks.
Napi::Value processGroup(Args& a) {
  StorePtr& base = storeOf(a, 0);
  const int rank = static_cast<int>(a.integer(1));
  const int size = static_cast<int>(a.integer(2));
  const std::string backend = a.string(3);
  const auto timeout = millis(a, 4);
  // The group's keys live under their own prefix so that they never meet the caller's.
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(backend, base);
  GroupPtr group;
  if (backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const std::string address = a.has(5) ? a.string(5) : "";
    options->devices.push_back(address.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                               : c10d::ProcessGroupGloo::createDeviceForHostname(address));
    options->threads = 2;
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, size, options);
  } else if (backend == "nccl") {
#if defined(FINDSTROKE_NCCL)
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, size, options);
#else
    throw std::runtime_error("this addon was built without NCCL (it needs LIBTORCH set to a CUDA libtorch that ships c10d's NCCL headers)");
#endif
  } else {
    throw std::invalid_argument("unknown backend '" + backend + "' (gloo, nccl)");
  }
  return wrap(a.env, new Group{group, rank, size}, kGroupTag);
}

void wait(const c10::intrusive_ptr<c10d::Work>& work) {
  work->wait();
}

// Each bucket groups tensors of one dtype and device, so that one collective moves many small tensors: the
// indices into `tensors` of each bucket's, in order.
std::vector<std::vector<size_t>> buckets(const std::vector<at::Tensor>& tensors, int64_t bucketBytes) {
  std::vector<std::vector<size_t>> out;
  std::map<std::pair<at::ScalarType, std::string>, size_t> open;
  std::vector<int64_t> bytes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor& t = tensors[i];
    const auto key = std::make_pair(t.scalar_type(), t.device().str());
    auto found = open.find(key);
    if (found == open.end() || bytes[found->second] >= bucketBytes) {
      open[key] = out.size();
      out.emplace_back();
      bytes.push_back(0);
      found = open.find(key);
    }
    out[found->second].push_back(i);
    bytes[found->second] += t.numel() * static_cast<int64_t>(t.element_size());
  }
  return out;
}

std::vector<at::Tensor> pick(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& indices) {
  std::vector<at::Tensor> out;
  for (size_t i : indices) out.push_back(tensors[i]);
  return out;
}

at::Tensor flatten(const std::vector<at::Tensor>& bucket) {
  std::vector<at::Tensor> flat;
  for (const auto& t : bucket) flat.push_back(t.reshape(-1));
  return at::cat(flat);
}

void unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& bucket) {
  int64_t offset = 0;
  for (auto t : bucket) {
    const int64_t n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

// Every tensor replaced in place by its mean over the ranks. The buckets' all-reduces are all started before
// the first is waited for, so they overlap each other.
void meanOverRanks(Collectives& group, int worldSize, const std::vector<at::Tensor>& tensors, int64_t bucketBytes) {
  at::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> parts;
  for (const auto& indices : buckets(tensors, bucketBytes)) parts.push_back(pick(tensors, indices));
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto& bucket : parts) {
    flats.push_back(flatten(bucket));
    std::vector<at::Tensor> io{flats.back()};
    works.push_back(group.allreduce(io));
  }
  for (size_t k = 0; k < parts.size(); ++k) {
    wait(works[k]);
    flats[k].div_(worldSize);
    unflatten(flats[k], parts[k]);
  }
}

// allreduceMean(group, tensors, bucketBytes): see meanOverRanks.
Napi::Value allreduceMean(Args& a) {
  Group& g = groupOf(a, 0);
  meanOverRanks(*g.group, g.size, a.tensors(1), a.integer(2));
  return a.undefined();
}

// DDP's Reducer, reduced to what data-parallel training needs: the parameters' gradients averaged over the
// ranks in buckets of about `bucketBytes`, each bucket's all-reduce started from the backward pass as soon as
// its last gradient is accumulated, so that communication overlaps the rest of backward. Buckets follow the
// reverse parameter order, the order backward produces gradients in, and are launched strictly in order, so
// that every rank starts the same collectives in the same order (c10d matches them by sequence).
class GradientReducer {
 public:
  GradientReducer(GroupPtr group, int worldSize, std::vector<at::Tensor> params, int64_t bucketBytes)
      : group_(std::move(group)), worldSize_(worldSize), params_(std::move(params)), bucketOf_(params_.size()) {
    std::vector<at::Tensor> reversed(params_.rbegin(), params_.rend());
    for (const auto& indices : buckets(reversed, bucketBytes)) {
      Bucket bucket;
      for (size_t r : indices) {
        const size_t param = params_.size() - 1 - r;
        bucket.params.push_back(param);
        bucketOf_[param] = buckets_.size();
      }
      buckets_.push_back(std::move(bucket));
    }
    reset();
    // Checked before any hook is added: a constructor that throws runs no destructor to remove them.
    for (size_t i = 0; i < params_.size(); ++i)
      if (!params_[i].requires_grad() || !params_[i].is_leaf())
        throw std::invalid_argument("gradient reducer: parameter " + std::to_string(i) + " is not a leaf that requires grad");
    for (size_t i = 0; i < params_.size(); ++i) {
      // The accumulator is held so that the hook outlives backward passes (the parameter holds it only weakly).
      auto accumulator = torch::autograd::impl::grad_accumulator(params_[i]);
      const auto key = accumulator->add_post_hook(std::make_unique<ReadyHook>(this, i));
      hooks_.emplace_back(accumulator, key);
    }
  }

  ~GradientReducer() {
    for (auto& [accumulator, key] : hooks_) accumulator->del_post_hook(key);
  }

  // Launches every bucket not yet launched (a parameter without gradient this step counts as zeros) and the
  // mean of `extras` (the loss), waits for them all, and replaces each gradient by its mean over the ranks;
  // a parameter no rank had a gradient for keeps none, as in one process. Returns how many buckets were
  // launched during backward.
  int64_t finish(const std::vector<at::Tensor>& extras) {
    std::lock_guard<std::mutex> lock(mutex_);
    at::NoGradGuard noGrad;
    const auto launchedDuringBackward = static_cast<int64_t>(nextLaunch_);
    while (nextLaunch_ < buckets_.size()) launch(nextLaunch_++);
    std::vector<float> hadGradient;
    for (const auto& param : params_) hadGradient.push_back(param.grad().defined() ? 1 : 0);
    auto reduced = extras;
    reduced.push_back(at::tensor(hadGradient).to(params_.empty() ? at::Device(at::kCPU) : params_[0].device()));
    // The gradients' buckets are in flight meanwhile.
    meanOverRanks(*group_, worldSize_, reduced, int64_t{64} << 20);
    const at::Tensor ranksWithGradient = reduced.back().cpu();
    const auto anyRankHadGradient = ranksWithGradient.accessor<float, 1>();
    for (auto& bucket : buckets_) {
      wait(bucket.work);
      bucket.flat.div_(worldSize_);
      int64_t offset = 0;
      for (size_t i : bucket.params) {
        auto& param = params_[i];
        const at::Tensor mean = bucket.flat.narrow(0, offset, param.numel()).view(param.sizes());
        offset += param.numel();
        if (param.grad().defined())
          param.mutable_grad().copy_(mean);
        else if (anyRankHadGradient[static_cast<int64_t>(i)] > 0)
          param.mutable_grad() = mean.clone();
      }
    }
    reset();
    return launchedDuringBackward;
  }

 private:
  struct Bucket {
    std::vector<size_t> params;
    size_t pending = 0;
    at::Tensor flat;
    c10::intrusive_ptr<c10d::Work> work;
  };

  // Runs after a parameter's gradient accumulator has added this backward's gradient to its .grad.
  struct ReadyHook : torch::autograd::FunctionPostHook {
    ReadyHook(GradientReducer* reducer, size_t param) : reducer(reducer), param(param) {}
    torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) override {
      reducer->ready(param);
      return outputs;
    }
    GradientReducer* reducer;
    size_t param;
  };

  void ready(size_t param) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t b = bucketOf_[param];
    if (b < nextLaunch_ || isReady_[param])
      throw std::runtime_error("gradient reducer: parameter " + std::to_string(param) +
                               " got a second gradient before finish() (one backward pass per step)");
    isReady_[param] = true;
    --buckets_[b].pending;
    at::NoGradGuard noGrad;
    while (nextLaunch_ < buckets_.size() && buckets_[nextLaunch_].pending == 0) launch(nextLaunch_++);
  }

  void launch(size_t b) {
    Bucket& bucket = buckets_[b];
    std::vector<at::Tensor> grads;
    for (size_t i : bucket.params) {
      const auto& param = params_[i];
      grads.push_back(param.grad().defined() ? param.grad() : at::zeros_like(param, at::MemoryFormat::Contiguous));
    }
    bucket.flat = flatten(grads);
    std::vector<at::Tensor> io{bucket.flat};
    bucket.work = group_->allreduce(io);
  }

  void reset() {
    isReady_.assign(params_.size(), false);
    nextLaunch_ = 0;
    for (auto& bucket : buckets_) {
      bucket.pending = bucket.params.size();
      bucket.flat = at::Tensor();
      bucket.work.reset();
    }
  }

  GroupPtr group_;
  int worldSize_;
  std::vector<at::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucketOf_;
  std::vector<bool> isReady_;
  size_t nextLaunch_ = 0;
  std::vector<std::pair<NodePtr, uintptr_t>> hooks_;
  // Backward may run a device's accumulators on that device's autograd thread.
  std::mutex mutex_;
};

using ReducerPtr = std::unique_ptr<GradientReducer>;

GradientReducer& reducerOf(Args& a, size_t i) {
  ReducerPtr& r = unwrap<ReducerPtr>(a, i, kReducerTag, "a gradient reducer");
  if (!r) throw std::runtime_error("the gradient reducer was destroyed");
  return *r;
}

// The sum over the ranks of `t`, as a new tensor outside autograd.
at::Tensor sumOverRanks(Collectives& group, const at::Tensor& t) {
  std::vector<at::Tensor> io{t.detach().clone(at::MemoryFormat::Contiguous)};
  wait(group.allreduce(io));
  return io[0];
}

// The backward of a sum over the ranks: every rank's output depends on every rank's input, so the gradient
// of each rank's input is the sum over the ranks of the output's gradients (PyTorch's
// torch.distributed.nn.functional.all_reduce). Every rank runs the same graph, so the ranks' backward passes
// reach these all-reduces in the same order. A Node of its own because a torch::autograd::Function's context
// keeps tensors and IValues, not a process group.
struct AllreduceSumBackward : torch::autograd::Node {
  explicit AllreduceSumBackward(GroupPtr group) : group(std::move(group)) {}
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {at::Tensor()};
    return {sumOverRanks(*group, grads[0])};
  }
  std::string name() const override { return "AllreduceSumBackward"; }
  GroupPtr group;
};

// allreduceSum(group, tensor): a new tensor, the sum of `tensor` over the ranks, differentiable (see above).
Napi::Value allreduceSum(Args& a) {
  Group& g = groupOf(a, 0);
  const at::Tensor& input = a.tensor(1);
  at::Tensor sum = sumOverRanks(*g.group, input);
  if (torch::autograd::compute_requires_grad(input)) {
    auto backward = makeNode<AllreduceSumBackward>(g.group);
    backward->set_next_edges(torch::autograd::collect_next_edges(input));
    torch::autograd::set_history(sum, backward);
  }
  return a.ret(sum);
}

// broadcast(group, tensors, root): every tensor replaced in place by rank `root`'s.
Napi::Value broadcast(Args& a) {
  Group& g = groupOf(a, 0);
  const auto tensors = a.tensors(1);
  c10d::BroadcastOptions options;
  options.rootRank = a.integer(2);
  at::NoGradGuard noGrad;
  for (const auto& indices : buckets(tensors, int64_t{64} << 20)) {
    const auto bucket = pick(tensors, indices);
    std::vector<at::Tensor> io{flatten(bucket)};
    wait(g.group->broadcast(io, options));
    unflatten(io[0], bucket);
  }
  return a.undefined();
}

// allgather(group, tensor): every rank's tensor (all of one shape), stacked in rank order.
Napi::Value allgather(Args& a) {
  Group& g = groupOf(a, 0);
  std::vector<at::Tensor> input{a.tensor(1).contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < g.size; ++r) output[0].push_back(at::empty_like(input[0]));
  wait(g.group->allgather(output, input));
  return a.ret(at::stack(output[0]));
}

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  define(env, exports, "distAvailable", [](Args& a) -> Napi::Value {
    auto out = Napi::Object::New(a.env);
    out.Set("gloo", true);
#if defined(FINDSTROKE_NCCL)
    out.Set("nccl", true);
#else
    out.Set("nccl", false);
#endif
    return out;
  });
  define(env, exports, "distStore", store);
  define(env, exports, "distStoreSet", [](Args& a) -> Napi::Value {
    const std::string value = a.string(2);
    storeOf(a, 0)->set(a.string(1), std::vector<uint8_t>(value.begin(), value.end()));
    return a.undefined();
  });
  define(env, exports, "distStoreGet", [](Args& a) -> Napi::Value { return Napi::String::New(a.env, text(storeOf(a, 0)->get(a.string(1)))); });
  define(env, exports, "distStoreCheck", [](Args& a) -> Napi::Value { return Napi::Boolean::New(a.env, storeOf(a, 0)->check(strings(a, 1))); });
  define(env, exports, "distStoreWait", [](Args& a) -> Napi::Value {
    storeOf(a, 0)->wait(strings(a, 1), millis(a, 2));
    return a.undefined();
  });
  define(env, exports, "distProcessGroup", processGroup);
  define(env, exports, "distAllreduceMean", allreduceMean);
  define(env, exports, "distAllreduceSum", allreduceSum);
  define(env, exports, "distBroadcast", broadcast);
  // gradientReducer(group, params, bucketBytes); reducerFinish(reducer, extras) -> buckets launched during backward.
  define(env, exports, "distGradientReducer", [](Args& a) -> Napi::Value {
    Group& g = groupOf(a, 0);
    auto* reducer = new ReducerPtr(std::make_unique<GradientReducer>(g.group, g.size, a.tensors(1), a.integer(2)));
    return wrap(a.env, reducer, kReducerTag);
  });
  define(env, exports, "distReducerFinish", [](Args& a) -> Napi::Value {
    return Napi::Number::New(a.env, static_cast<double>(reducerOf(a, 0).finish(a.tensors(1))));
  });
  define(env, exports, "distReducerDestroy", [](Args& a) -> Napi::Value {
    unwrap<ReducerPtr>(a, 0, kReducerTag, "a gradient reducer").reset();
    return a.undefined();
  });
  define(env, exports, "distAllgather", allgather);
  define(env, exports, "distBarrier", [](Args& a) -> Napi::Value {
    wait(groupOf(a, 0).group->barrier());
    return a.undefined();
  });
  define(env, exports, "distDestroy", [](Args& a) -> Napi::Value {
    groupOf(a, 0).group.reset();
    return a.undefined();
  });
}

}  // namespace findstroke

#else

namespace findstroke {

void registerDistributed(Napi::Env env, Napi::Object exports) {
  define(env, exports, "distAvailable", [](Args& a) -> Napi::Value {
    auto out = Napi::Object::New(a.env);
    out.Set("gloo", false);
    out.Set("nccl", false);
    return out;
  });
}

}  // namespace findstroke

#endif
