// TorchScript's inference compiler, bound thinly: libtorch's tracer records a JavaScript forward pass into a
// graph (as torch.jit.trace does), the graph gets the passes of torch.jit.freeze and optimize_for_inference,
// and libtorch's graph executor runs it. The weights enter the graph as constants: a graph is a snapshot.
#include "binding.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/frozen_conv_add_relu_fusion.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/frozen_linear_transpose.h>
#include <torch/csrc/jit/passes/frozen_ops_to_mkldnn.h>
#include <torch/csrc/jit/passes/graph_rewrite_helper.h>
#include <torch/csrc/jit/passes/remove_dropout.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <memory>

namespace findstroke {

namespace {

const napi_type_tag kGraphTag = {0x5f1c0e2a7b3d4e61ULL, 0x9a8b7c6d5e4f3021ULL};

struct CompiledGraph {
  std::shared_ptr<torch::jit::Graph> graph;
  std::unique_ptr<torch::jit::GraphExecutor> executor;
};

CompiledGraph& graphOf(Args& a, size_t i) {
  if (a.has(i) && a[i].IsExternal()) {
    auto external = a[i].As<Napi::External<CompiledGraph>>();
    if (external.CheckTypeTag(&kGraphTag) && external.Data() && external.Data()->executor) return *external.Data();
  }
  a.fail(i, "a compiled graph (not disposed)");
}

// The passes torch.jit.freeze (OptimizeFrozenGraph) and torch.jit.optimize_for_inference run, in their order.
void optimizeForInference(std::shared_ptr<torch::jit::Graph>& graph) {
  // The tracer records a convolution as aten::_convolution; the folding passes match aten::conv2d.
  torch::jit::graph_rewrite_helper::replaceConvolutionWithAtenConv(graph);
  torch::jit::removeDropout(graph);
  torch::jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
  torch::jit::FuseFrozenConvAddRelu(graph);
  torch::jit::ConvertFrozenOpsToMKLDNN(graph);
  torch::jit::FrozenLinearTranspose(graph);
  torch::jit::EliminateDeadCode(graph);
}

}  // namespace

void refuseWhileTracing(const char* what) {
  if (torch::jit::tracer::isTracing())
    throw std::runtime_error(std::string(what) + ": a traced forward pass may not read tensor values (the graph would keep the traced input's)");
}

void registerJit(Napi::Env env, Napi::Object exports) {
  // jitTrace(input, fn): runs fn() (it returns one tensor computed from `input`) once while libtorch's tracer
  // records every ATen operation into a graph, optimises the graph for inference and returns it compiled. Tensors
  // fn reads besides the input (the weights) become constants, so none of them may require grad.
  define(env, exports, "jitTrace", [](Args& a) -> Napi::Value {
    torch::jit::Stack inputs{a.tensor(0)};
    if (!a.has(1) || !a[1].IsFunction()) a.fail(1, "a function");
    Napi::Function fn = a[1].As<Napi::Function>();
    auto traced = torch::jit::tracer::trace(
        std::move(inputs),
        [&](torch::jit::Stack) {
          const at::Tensor* out = unwrapTensor(fn.Call({}));
          if (!out) throw std::invalid_argument("jitTrace: the traced function must return a tensor");
          return torch::jit::Stack{*out};
        },
        [](const at::Tensor&) { return std::string(); });
    auto compiled = std::make_unique<CompiledGraph>();
    compiled->graph = traced.first->graph;
    optimizeForInference(compiled->graph);
    // The simple executor runs the optimised graph as it is: the profiling one would profile it again at every new
    // batch size, for specialisations that only its fusers use (off for the CPU in libtorch).
    compiled->executor = std::make_unique<torch::jit::GraphExecutor>(compiled->graph, "forward", torch::jit::ExecutorExecutionMode::SIMPLE);
    auto external = Napi::External<CompiledGraph>::New(a.env, compiled.release(), [](Napi::Env, CompiledGraph* g) { delete g; });
    external.TypeTag(&kGraphTag);
    return external;
  });
  // jitRun(graph, input): the compiled graph's output for a new input.
  define(env, exports, "jitRun", [](Args& a) -> Napi::Value {
    CompiledGraph& compiled = graphOf(a, 0);
    torch::jit::Stack stack{a.tensor(1)};
    compiled.executor->run(stack);
    return a.ret(stack.at(0).toTensor());
  });
  // jitDispose(graph): frees the graph and its constants (the weights' prepacked copies) now, not at collection.
  define(env, exports, "jitDispose", [](Args& a) -> Napi::Value {
    CompiledGraph& compiled = graphOf(a, 0);
    compiled.executor.reset();
    compiled.graph.reset();
    return a.undefined();
  });
  // jitGraphText(graph): the optimised graph in TorchScript's IR notation (which operations it runs).
  define(env, exports, "jitGraphText", [](Args& a) -> Napi::Value { return Napi::String::New(a.env, graphOf(a, 0).graph->toString()); });
}

}  // namespace findstroke
