#include "blas_check.h"

#include <ATen/Parallel.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "ntks/log/log.h"
#include "ntks/model/torch_info.h"
#include "ntks/util/blas_kernels.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kGemmN = 1024;
// Below this speed-up a better core is not worth a warning.
constexpr double kWorthWarning = 1.10;

// Best of two short passes: the first can meet a cold thread pool.
double gemm_gflops() { return std::max(model::measure_gemm_gflops(kGemmN, 4), model::measure_gemm_gflops(kGemmN, 4)); }

// The "gemm:" line of `ntk-select --blas-info` run on `core`, with this
// process's thread count.
std::optional<double> gemm_gflops_on(const std::string& core) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const std::string cmd = fmt::format("OPENBLAS_CORETYPE={0} {1}={0} OMP_NUM_THREADS={2} '{3}' --blas-info 2>/dev/null",
                                      core, util::kChosenCoreVariable, at::get_num_threads(), self.string());
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
  const auto at = out.find("\ngemm:");
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stod(out.substr(at + 6));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string utc_now() {
  char text[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return text;
}

struct Comparison {
  double current = 0, better = 0;
  std::string measured;  ///< when, and where it is cached
};

// Measured once per machine and setting: every command of a job (and every
// test) would otherwise start a child process and time two GEMMs.
std::optional<Comparison> compare(const util::BlasKernels& k) {
  const std::string key =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{} threads", k.cpu.vendor, k.cpu.brand, k.cpu.family, k.cpu.model, k.core,
                  *k.better, util::blas_config(), at::get_num_threads());
  const std::string folder = user_cache_dir();
  const std::string file = folder.empty() ? "" : folder + "/blas-kernels.json";
  json cache = json::object();
  if (!file.empty() && fs::exists(file)) {
    try {
      cache = json::parse(read_file(file), nullptr, false);
    } catch (const std::exception&) {
      // unreadable: measured again and rewritten
    }
    if (!cache.is_object()) cache = json::object();
  }
  // A damaged entry is measured again, never trusted.
  if (const auto it = cache.find(key); it != cache.end() && it->is_object()) {
    const json& c = *it;
    auto number = [&](const char* field) { return c.contains(field) && c[field].is_number() ? c[field].get<double>() : 0.0; };
    if (number("current") > 0 && number("better") > 0)
      return Comparison{number("current"), number("better"),
                        fmt::format("{}, cached in {}", c.contains("utc") && c["utc"].is_string()
                                                            ? c["utc"].get<std::string>() : "?", file)};
  }
  const std::optional<double> better = gemm_gflops_on(*k.better);
  if (!better) return std::nullopt;
  Comparison c{gemm_gflops(), *better, utc_now()};
  if (!file.empty()) {
    cache[key] = {{"current", c.current}, {"better", c.better}, {"utc", c.measured}};
    std::error_code ec;
    fs::create_directories(folder, ec);
    try {
      write_file_atomic(file, cache.dump(2) + "\n");
      c.measured += ", cached in " + file;
    } catch (const std::exception&) {
      // an unwritable cache only costs the measurement next time
    }
  }
  return c;
}

}  // namespace

std::string blas_info_text() {
  const util::BlasKernels& k = util::blas_kernels();
  std::string out = fmt::format("cpu:   {}\n", util::describe_cpu(k.cpu));
  if (k.source == util::CoreSource::not_openblas) {
    out += "blas:  not OpenBLAS: no kernels to choose\n";
  } else {
    out += fmt::format("blas:  {}\n", util::blas_config());
    out += fmt::format("core:  {}\n", k.core_text());
    if (k.better)
      out += fmt::format("note:  this CPU runs {} kernels: unset OPENBLAS_CORETYPE (ntk-select then chooses) or "
                         "set OPENBLAS_CORETYPE={}\n",
                         util::tier_name(util::cpu_tier(k.cpu)), *k.better);
  }
  out += fmt::format("gemm:  {:.1f} GFLOP/s (fp32, n={}, {} threads)\n", gemm_gflops(), kGemmN, at::get_num_threads());
  return out;
}

void warn_about_blas_kernels(dist::Communicator& comm) {
  const util::BlasKernels& k = util::blas_kernels();
  if (comm.size() > 1) {
    // Bits are equal across rank counts only on the same kernels everywhere.
    const std::vector<std::string> cores = comm.gatherv_bytes(k.core, 0);
    if (comm.is_root()) {
      std::map<std::string, std::vector<int>> ranks;
      for (size_t r = 0; r < cores.size(); ++r) ranks[cores[r]].push_back(static_cast<int>(r));
      if (ranks.size() > 1) {
        std::string list;
        for (const auto& [core, rs] : ranks)
          list += fmt::format("{}{} on rank(s) {}", list.empty() ? "" : "; ", core.empty() ? "not OpenBLAS" : core,
                              fmt::join(rs, ","));
        log::warn("the ranks run different BLAS kernels ({}): results agree to rounding, not bit for bit, with a "
                  "run on another rank count. Set the same OPENBLAS_CORETYPE for every rank to make them equal.",
                  list);
      }
    }
  }
  if (!k.better || comm.local_rank() != 0) return;
  const std::string what =
      fmt::format("OpenBLAS runs {} on a CPU that runs {} kernels", k.core_text(), util::tier_name(util::cpu_tier(k.cpu)));
  const std::string fix = fmt::format("unset OPENBLAS_CORETYPE (ntk-select then chooses) or set OPENBLAS_CORETYPE={}",
                                      *k.better);
  const std::optional<Comparison> c = compare(k);
  if (!c) {
    log::warn_once("blas-kernels", fmt::format("{}; the better core could not be measured here. Fix: {}", what, fix));
    return;
  }
  const double gain = c->better / c->current;
  const std::string measured =
      fmt::format("fp32 GEMM {:.0f} GFLOP/s here, {:.0f} with {} ({:.2f}x; measured {})", c->current, c->better,
                  *k.better, gain, c->measured);
  if (gain >= kWorthWarning)
    log::warn_once("blas-kernels", fmt::format("{}: {}. GEMM-bound stages run up to that much slower. Fix: {}", what,
                                               measured, fix));
  else
    log::debug("{}: {}: less than {:.0f}% to gain, kept", what, measured, 100 * (kWorthWarning - 1));
}

}  // namespace ntks::cli
