// `ntk-select selfcheck`: proves an installation works before a long job:
// every collective on real data with results known from rank and size, a
// feature-file round trip, and the BLAS speed that decides everything else.

#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "command.h"
#include "ntks/log/log.h"
#include "ntks/model/torch_info.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/blas_kernels.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

// Below this an fp32 GEMM is running on reference BLAS, not OpenBLAS.
constexpr double kSlowBlasGflops = 20;

void expect(bool ok, const std::string& what) {
  if (!ok) throw DistError("selfcheck failed: " + what);
}

std::set<std::string> check_collectives(dist::Communicator& comm) {
  const int n = comm.size(), r = comm.rank();
  auto t = torch::full({3}, static_cast<double>(r + 1), torch::kFloat64);
  comm.allreduce(t, dist::ReduceOp::sum);
  expect(t.eq(n * (n + 1) / 2.0).all().item<bool>(), "allreduce sum");
  auto m = torch::full({2, 2}, static_cast<float>(r), torch::kFloat32);
  comm.allreduce(m, dist::ReduceOp::max);
  expect(m.eq(static_cast<float>(n - 1)).all().item<bool>(), "allreduce max");
  auto mean = torch::full({4}, static_cast<float>(r), torch::kBFloat16);
  comm.allreduce(mean, dist::ReduceOp::mean);
  expect(std::abs(mean[0].item<float>() - (n - 1) / 2.0f) < 1e-2f, "allreduce mean (bf16)");

  auto b = r == 0 ? torch::arange(5, torch::kInt64) : torch::zeros({5}, torch::kInt64);
  comm.broadcast(b, 0);
  expect(b.equal(torch::arange(5, torch::kInt64)), "broadcast");

  auto rows = torch::full({r + 1, 2}, static_cast<float>(r), torch::kFloat32);
  auto all = comm.gatherv(rows, 0);
  if (comm.is_root()) {
    expect(all.size(0) == n * (n + 1) / 2, "gatherv row count");
    expect(all[all.size(0) - 1][0].item<float>() == n - 1, "gatherv order");
  }

  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  auto hosts = comm.gatherv_bytes(host, 0);
  std::string msg = comm.is_root() ? "ok" : "";
  comm.broadcast_bytes(msg, 0);
  expect(msg == "ok", "broadcast_bytes");
  comm.barrier();
  return {hosts.begin(), hosts.end()};
}

void check_store(const dist::Communicator& comm) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("ntks-selfcheck-{}-{}", ::getpid(), comm.rank());
  fs::create_directories(dir);
  std::string path = (dir / "check.h5").string();
  std::vector<float> data = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -0.5f};
  std::vector<std::uint64_t> keys = {11, 22, 33};
  store::FeatureFileSpec spec;
  spec.dim = 2;
  spec.kind = "selfcheck";
  auto w = store::FeatureWriter::create(path, spec);
  const std::vector<std::int64_t> indices = {0, 4, 9}, tokens = {7, 8, 9};
  w.append(data.data(), 3, keys.data(), {"a", "b", "c"}, indices.data(), tokens.data());
  w.finalize();
  store::FeatureReader reader(path);
  std::vector<float> back(6);
  reader.read_rows(0, 3, back.data());
  bool ok = back == data && reader.keys(0, 3) == keys && reader.ids(2, 1).at(0) == "c" &&
            reader.indices(0, 3) == indices && reader.tokens(0, 3) == tokens;
  fs::remove_all(dir);
  expect(ok, "feature file round trip in " + dir.string());
}

int selfcheck_main(Context& ctx) {
  dist::Communicator& comm = ctx.comm;
  log::info("rank {} of {}, local rank {} of {}, backend {}, {} torch threads; {}", comm.rank(), comm.size(),
            comm.local_rank(), comm.local_size(), comm.name(), at::get_num_threads(),
            util::blas_kernels().describe());
  std::set<std::string> hosts = check_collectives(comm);
  check_store(comm);
  double gflops = model::measure_gemm_gflops();
  auto speeds = comm.gatherv(torch::tensor({gflops}, torch::kFloat64), 0);
  if (comm.is_root()) {
    double slowest = speeds.min().item<double>();
    if (slowest < kSlowBlasGflops)
      log::warn("fp32 GEMM runs at {:.1f} GFLOP/s: LibTorch is probably on reference BLAS. "
                "Install libopenblas0-openmp (cluster/install-deps does).",
                slowest);
    log::info("selfcheck passed: {} rank(s) on {} host(s), backend {}; collectives, feature store and "
              "GEMM ({:.1f} GFLOP/s per rank, slowest rank) ok",
              comm.size(), hosts.size(), comm.name(), slowest);
  }
  return 0;
}

}  // namespace

Command selfcheck_command() {
  Command c;
  c.name = "selfcheck";
  c.computes = true;
  c.summary = "check the installation: every collective across the ranks, HDF5 store, GEMM speed";
  c.description =
      "Run it first on a new machine or cluster, e.g. `mpirun -np 2 ntk-select selfcheck`.\n"
      "Each collective is checked against values known from rank and size; a feature\n"
      "file is written and read back; the fp32 GEMM speed of each rank is measured and a\n"
      "warning is printed when LibTorch is on a slow reference BLAS.";
  c.run = selfcheck_main;
  return c;
}

}  // namespace ntks::cli
