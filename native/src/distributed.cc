// A thin binding of PyTorch's collective library c10d: the TCPStore rendezvous, a process group (Gloo on
// CPUs; NCCL when the addon is built against a CUDA libtorch that ships it), and the collectives
// data-parallel training needs. Every call blocks until its collective is done; c10d's own timeouts bound
// each wait, and every c10d exception reaches JavaScript as an Error (see define(); for the differentiable
// all-reduce's backward, through the autograd engine, which rethrows it from backward()).
#include "binding.h"

#if defined(FINDSTROKE_GLOO)
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

namespace findstroke {

namespace {

const napi_type_tag kStoreTag = {0x5a1c3e7d9b2f4a60ULL, 0x9e8d7c6b5a493827ULL};
const napi_type_tag kGroupTag = {0x7b4e2d1c0f9a8b76ULL, 0x1a2b3c4d5e6f7081ULL};

using StorePtr = c10::intrusive_ptr<c10d::Store>;

struct Group {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
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
  c10::intrusive_ptr<c10d::ProcessGroup> group;
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

// Each bucket concatenates tensors of one dtype and device, so that one collective moves many small tensors.
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor>& tensors, int64_t bucketBytes) {
  std::vector<std::vector<at::Tensor>> out;
  std::map<std::pair<at::ScalarType, std::string>, size_t> open;
  std::vector<int64_t> bytes;
  for (const auto& t : tensors) {
    const auto key = std::make_pair(t.scalar_type(), t.device().str());
    auto found = open.find(key);
    if (found == open.end() || bytes[found->second] >= bucketBytes) {
      open[key] = out.size();
      out.emplace_back();
      bytes.push_back(0);
      found = open.find(key);
    }
    out[found->second].push_back(t);
    bytes[found->second] += t.numel() * static_cast<int64_t>(t.element_size());
  }
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

// allreduceMean(group, tensors, bucketBytes): every tensor replaced in place by its mean over the ranks.
// The buckets' all-reduces are all started before the first is waited for, so they overlap each other.
Napi::Value allreduceMean(Args& a) {
  Group& g = groupOf(a, 0);
  const auto tensors = a.tensors(1);
  const int64_t bucketBytes = a.integer(2);
  at::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> parts = buckets(tensors, bucketBytes);
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto& bucket : parts) {
    flats.push_back(flatten(bucket));
    std::vector<at::Tensor> io{flats.back()};
    works.push_back(g.group->allreduce(io));
  }
  for (size_t k = 0; k < parts.size(); ++k) {
    wait(works[k]);
    flats[k].div_(g.size);
    unflatten(flats[k], parts[k]);
  }
  return a.undefined();
}

// The sum over the ranks of `t`, as a new tensor outside autograd.
at::Tensor sumOverRanks(c10d::ProcessGroup& group, const at::Tensor& t) {
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
  explicit AllreduceSumBackward(c10::intrusive_ptr<c10d::ProcessGroup> group) : group(std::move(group)) {}
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {at::Tensor()};
    return {sumOverRanks(*group, grads[0])};
  }
  std::string name() const override { return "AllreduceSumBackward"; }
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

// allreduceSum(group, tensor): a new tensor, the sum of `tensor` over the ranks, differentiable (see above).
Napi::Value allreduceSum(Args& a) {
  Group& g = groupOf(a, 0);
  const at::Tensor& input = a.tensor(1);
  at::Tensor sum = sumOverRanks(*g.group, input);
  if (torch::autograd::compute_requires_grad(input)) {
    auto backward = std::shared_ptr<AllreduceSumBackward>(new AllreduceSumBackward(g.group), torch::autograd::deleteNode);
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
  for (const auto& bucket : buckets(tensors, int64_t{64} << 20)) {
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
