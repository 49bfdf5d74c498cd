// Single-process backend: with one rank every collective is the identity.

#include <torch/torch.h>

#include "ntks/dist/communicator.h"
#include "ntks/util/error.h"

#include <cstdlib>

namespace ntks::dist {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string name() const override { return "local"; }

  void barrier() override {}
  void broadcast(at::Tensor& t, int root) override {
    check_root(root);
    check_defined(t);
  }
  void allreduce(at::Tensor& t, ReduceOp op) override {
    check_defined(t);
    if (op == ReduceOp::mean && !t.is_floating_point())
      throw DistError(fmt::format("allreduce mean needs a floating tensor, got {}", toString(t.scalar_type())));
  }
  at::Tensor gatherv(const at::Tensor& t, int root) override {
    check_root(root);
    check_defined(t);
    if (t.dim() < 1) throw DistError("gatherv needs a tensor with at least one dimension");
    return t.clone();
  }
  void broadcast_bytes(std::string&, int root) override { check_root(root); }
  std::vector<std::string> gatherv_bytes(const std::string& bytes, int root) override {
    check_root(root);
    return {bytes};
  }
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }

 private:
  static void check_root(int root) {
    if (root != 0) throw DistError(fmt::format("root rank {} does not exist in a 1-rank job", root));
  }
  static void check_defined(const at::Tensor& t) {
    if (!t.defined()) throw DistError("collective on an undefined tensor");
  }
};

}  // namespace

std::unique_ptr<Communicator> make_local() { return std::make_unique<LocalCommunicator>(); }

}  // namespace ntks::dist
