// The BLAS kernel choice: each cpuid case (faked CPUs), this CPU's cpuid
// against /proc/cpuinfo, and through the binary: a user's OPENBLAS_CORETYPE
// kept, a fallback core replaced by a re-exec, the warning with the measured
// loss, and the same numbers whichever way the core was set.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "ntks/util/blas_kernels.h"
#include "ntks/util/files.h"
#include "test_util.h"

using ntks::testing::run_command;
using ntks::testing::TempDir;
using ntks::util::choose_blas_core;
using ntks::util::core_tier;
using ntks::util::CpuFeatures;
using ntks::util::KernelTier;

namespace blas_kernels_test {

const std::string kBin = NTKS_BINARY;

CpuFeatures cpu(bool avx, bool fma, bool avx2, bool avx512, bool bf16 = false) {
  CpuFeatures c;
  c.vendor = "GenuineIntel";
  c.brand = "Intel(R) Xeon(R) Processor";  // masked: no model in the name
  c.family = 6;
  c.avx = avx;
  c.fma = fma;
  c.avx2 = avx2;
  c.avx512 = avx512;
  c.avx512_bf16 = bf16;
  return c;
}
const CpuFeatures kSse = cpu(false, false, false, false);
const CpuFeatures kAvx = cpu(true, false, false, false);
const CpuFeatures kAvx2 = cpu(true, true, true, false);
const CpuFeatures kAvx512 = cpu(true, true, true, true);
const CpuFeatures kAvx512Bf16 = cpu(true, true, true, true, true);

TEST(BlasKernels, CoreNamesHaveTheirKernelClass) {
  EXPECT_EQ(core_tier("Prescott"), KernelTier::sse);
  EXPECT_EQ(core_tier("PRESCOTT"), KernelTier::sse);
  EXPECT_EQ(core_tier("Nehalem"), KernelTier::sse);
  EXPECT_EQ(core_tier("Barcelona"), KernelTier::sse);
  EXPECT_EQ(core_tier("Sandybridge"), KernelTier::avx);
  EXPECT_EQ(core_tier("Haswell"), KernelTier::avx2);
  EXPECT_EQ(core_tier("Zen"), KernelTier::avx2);
  EXPECT_EQ(core_tier("SkylakeX"), KernelTier::avx512);
  EXPECT_EQ(core_tier("Cooperlake"), KernelTier::avx512);
  EXPECT_EQ(core_tier("SapphireRapids"), KernelTier::avx512);
  EXPECT_EQ(core_tier("FutureLake"), std::nullopt);
  EXPECT_EQ(core_tier(""), std::nullopt);
}

TEST(BlasKernels, TheWidestKernelsTheCpuRuns) {
  EXPECT_EQ(cpu_tier(kSse), KernelTier::sse);
  EXPECT_EQ(cpu_tier(kAvx), KernelTier::avx);
  EXPECT_EQ(cpu_tier(kAvx2), KernelTier::avx2);
  EXPECT_EQ(cpu_tier(kAvx512), KernelTier::avx512);
  // AVX2 without FMA: OpenBLAS's Haswell kernels need both.
  EXPECT_EQ(cpu_tier(cpu(true, false, true, false)), KernelTier::avx);
}

TEST(BlasKernels, AFallbackCoreIsReplacedByTheCpusWidest) {
  // The masked AVX-512 Xeon of the issue: OpenBLAS fell back to Prescott.
  EXPECT_EQ(choose_blas_core(kAvx512, "Prescott"), "SkylakeX");
  EXPECT_EQ(choose_blas_core(kAvx512Bf16, "Prescott"), "Cooperlake");
  EXPECT_EQ(choose_blas_core(kAvx512, "Haswell"), "SkylakeX");
  // OpenBLAS 0.3.21 runs Zen's AVX2 kernels on AVX-512 Zen 4; later versions pick SkylakeX there.
  EXPECT_EQ(choose_blas_core(kAvx512Bf16, "Zen"), "Cooperlake");
  EXPECT_EQ(choose_blas_core(kAvx2, "Prescott"), "Haswell");
  EXPECT_EQ(choose_blas_core(kAvx2, "Core2"), "Haswell");
  EXPECT_EQ(choose_blas_core(kAvx2, "Sandybridge"), "Haswell");
  EXPECT_EQ(choose_blas_core(kAvx, "Nehalem"), "Sandybridge");
}

TEST(BlasKernels, TheRightCoreOrAnUnknownOneIsLeftAlone) {
  EXPECT_EQ(choose_blas_core(kAvx512, "SkylakeX"), std::nullopt);
  EXPECT_EQ(choose_blas_core(kAvx512Bf16, "SkylakeX"), std::nullopt);  // same fp32 kernels as Cooperlake
  EXPECT_EQ(choose_blas_core(kAvx512Bf16, "SapphireRapids"), std::nullopt);
  EXPECT_EQ(choose_blas_core(kAvx2, "Haswell"), std::nullopt);
  EXPECT_EQ(choose_blas_core(kAvx2, "Zen"), std::nullopt);
  EXPECT_EQ(choose_blas_core(kSse, "Prescott"), std::nullopt);  // nothing wider to run
  EXPECT_EQ(choose_blas_core(kAvx, "Sandybridge"), std::nullopt);
  EXPECT_EQ(choose_blas_core(kAvx512, "FutureLake"), std::nullopt);  // a core newer than our table
  EXPECT_EQ(choose_blas_core(kAvx512, ""), std::nullopt);            // not OpenBLAS
  // A core wider than the CPU (a user's odd setting) is not ours to narrow.
  EXPECT_EQ(choose_blas_core(kAvx2, "SkylakeX"), std::nullopt);
}

// cpuid against the kernel's own reading of it.
TEST(BlasKernels, CpuidAgreesWithProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string line, vendor, flags_line;
  int family = -1, model = -1;
  while (std::getline(in, line) && !line.empty()) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "vendor_id") vendor = value;
    if (key == "cpu family") family = std::stoi(value);
    if (key == "model") model = std::stoi(value);
    if (key == "flags") flags_line = value;
  }
  std::set<std::string> flags;
  std::istringstream words(flags_line);
  for (std::string w; words >> w;) flags.insert(w);
  auto has = [&](const char* f) { return flags.count(f) > 0; };
  const CpuFeatures c = ntks::util::detect_cpu();
  EXPECT_EQ(c.vendor, vendor);
  EXPECT_EQ(c.family, family);
  EXPECT_EQ(c.model, model);
  // The kernel lists a flag only where the OS also enables its registers.
  EXPECT_EQ(c.avx, has("avx"));
  EXPECT_EQ(c.fma, has("fma"));
  EXPECT_EQ(c.avx2, has("avx2"));
  EXPECT_EQ(c.avx512,
            has("avx512f") && has("avx512cd") && has("avx512bw") && has("avx512dq") && has("avx512vl"));
  EXPECT_EQ(c.avx512_bf16, c.avx512 && has("avx512_bf16"));
}

TEST(BlasKernels, ThisProcessRunsOpenBlasAndNamesItsCore) {
  const ntks::util::BlasKernels& k = ntks::util::blas_kernels();
  ASSERT_NE(k.source, ntks::util::CoreSource::not_openblas) << "cluster/install-deps installs OpenBLAS";
  EXPECT_TRUE(core_tier(k.core).has_value()) << k.core;
  EXPECT_NE(ntks::util::blas_config().find("OpenBLAS"), std::string::npos);
  EXPECT_NE(k.describe().find("core " + k.core), std::string::npos) << k.describe();
}

// --blas-info's "core:" line.
std::string core_of(const std::string& output) {
  const auto at = output.find("core:  ");
  if (at == std::string::npos) return "";
  return output.substr(at + 7, output.find(' ', at + 7) - at - 7);
}

// What the library picks on this CPU when nobody sets anything.
std::string library_core() { return core_of(run_command("env -u OPENBLAS_CORETYPE " + kBin + " --blas-info").output); }

TEST(BlasKernelsCli, AUsersSettingIsKeptAndNamed) {
  auto r = run_command("OPENBLAS_CORETYPE=Prescott " + kBin + " --blas-info");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(core_of(r.output), "Prescott") << r.output;
  EXPECT_NE(r.output.find("OPENBLAS_CORETYPE=Prescott set before ntk-select started"), std::string::npos) << r.output;
  const auto best = choose_blas_core(ntks::util::detect_cpu(), "Prescott");
  if (best) EXPECT_NE(r.output.find("set OPENBLAS_CORETYPE=" + *best), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gemm:  "), std::string::npos) << r.output;
  r = run_command("OPENBLAS_CORETYPE=Prescott " + kBin + " --build-info");
  EXPECT_NE(r.output.find("core Prescott (SSE kernels; OPENBLAS_CORETYPE=Prescott"), std::string::npos) << r.output;
}

TEST(BlasKernelsCli, AFallbackCoreIsReplacedBeforeTheCommandRuns) {
  const auto best = choose_blas_core(ntks::util::detect_cpu(), "Prescott");
  if (!best) GTEST_SKIP() << "this CPU runs nothing wider than Prescott's kernels";
  // OPENBLAS_CORETYPE=Prescott then forgotten: the library fell back by itself.
  auto r = run_command("env -u OPENBLAS_CORETYPE OPENBLAS_CORETYPE=Prescott NTKS_TEST_BLAS_FELL_BACK=1 " + kBin +
                       " --blas-info");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(core_of(r.output), *best) << r.output;
  EXPECT_NE(r.output.find("chosen by ntk-select: OpenBLAS had picked Prescott"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("note:"), std::string::npos) << r.output;
  // With nothing set on a CPU the library knows, nothing is re-executed.
  const std::string own = library_core();
  r = run_command("env -u OPENBLAS_CORETYPE " + kBin + " --blas-info");
  if (!choose_blas_core(ntks::util::detect_cpu(), own))
    EXPECT_NE(r.output.find("OpenBLAS's own choice"), std::string::npos) << r.output;
}

TEST(BlasKernelsCli, TheSameNumbersWhicheverWayTheCoreWasSet) {
  const auto best = choose_blas_core(ntks::util::detect_cpu(), "Prescott");
  if (!best) GTEST_SKIP() << "this CPU runs nothing wider than Prescott's kernels";
  TempDir dir;
  auto r = run_command(kBin + " make-model --arch llama --out " + dir.file("m") + " --layers 2 --hidden 64 --heads 4 "
                       "--kv-heads 2 --vocab 300 --intermediate 160");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string in = dir.write("in.jsonl", "{\"ids\": [1, 2, 3, 4, 5, 6, 7, 8]}\n{\"ids\": [9, 250, 17]}\n");
  auto forward = [&](const std::string& env, const std::string& out) {
    // The argument with a space survives the exec as one argument.
    return run_command("env -u OPENBLAS_CORETYPE " + env + " " + kBin + " forward --model " + dir.file("m") +
                       " --input " + in + " --out " + dir.file(out) + " --logits --dtype fp32 --set 'run.seed=7' "
                       "--log-level 'info' 2>&1");
  };
  r = forward("OPENBLAS_CORETYPE=" + *best, "user.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  r = forward("OPENBLAS_CORETYPE=Prescott NTKS_TEST_BLAS_FELL_BACK=1", "chosen.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command("h5diff " + dir.file("user.h5") + " " + dir.file("chosen.h5"));
  EXPECT_EQ(r.status, 0) << "the re-executed run on " << *best << " differs from a user's " << *best << ":\n"
                         << r.output;
  // On Prescott's kernels the numbers differ only by rounding.
  r = forward("OPENBLAS_CORETYPE=Prescott", "prescott.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command("h5diff --delta=1e-4 " + dir.file("user.h5") + " " + dir.file("prescott.h5") + " logits");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(BlasKernelsCli, ASlowerCoreWarnsOnceWithTheMeasuredLossAndTheFix) {
  const auto best = choose_blas_core(ntks::util::detect_cpu(), "Prescott");
  if (!best) GTEST_SKIP() << "this CPU runs nothing wider than Prescott's kernels";
  TempDir dir;
  const std::string env = "env OPENBLAS_CORETYPE=Prescott NTKS_CACHE_DIR=" + dir.file("cache") + " ";
  auto r = run_command(env + kBin + " selfcheck --dist local 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string head = "OpenBLAS runs Prescott (SSE kernels; OPENBLAS_CORETYPE=Prescott set before ntk-select "
                           "started) on a CPU that runs";
  ASSERT_NE(r.output.find(head), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(head), r.output.rfind(head)) << "warned twice:\n" << r.output;
  EXPECT_NE(r.output.find("set OPENBLAS_CORETYPE=" + *best), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s here"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("core Prescott"), std::string::npos) << "selfcheck names the core:\n" << r.output;
  ASSERT_TRUE(std::filesystem::exists(dir.file("cache/blas-kernels.json")));
  // The second run reads the measurement instead of repeating it.
  r = run_command(env + kBin + " selfcheck --dist local 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("cached in " + dir.file("cache/blas-kernels.json")), std::string::npos) << r.output;
}

TEST(BlasKernelsCli, RanksOnDifferentKernelsAreToldThatBitsWillDiffer) {
  TempDir dir;
  // Two SSE cores every x86-64 CPU runs, one per rank (mpirun's MPMD form).
  const std::string rank = "-x NTKS_CACHE_DIR=" + dir.file("cache") + " " + kBin + " selfcheck";
  auto r = run_command("mpirun --oversubscribe -np 1 -x OPENBLAS_CORETYPE=Core2 " + rank +
                       " : -np 1 -x OPENBLAS_CORETYPE=Prescott " + rank + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("the ranks run different BLAS kernels (Core2 on rank(s) 0; Prescott on rank(s) 1)"),
            std::string::npos)
      << r.output;
  // The same kernels everywhere: not a word.
  r = run_command("mpirun --oversubscribe -np 2 -x OPENBLAS_CORETYPE=Prescott " + rank + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("different BLAS kernels"), std::string::npos) << r.output;
}

}  // namespace blas_kernels_test
