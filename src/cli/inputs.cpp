#include "inputs.h"

#include <filesystem>

#include <string>

#include "ntks/config/enums.h"
#include "ntks/util/error.h"

namespace ntks::cli {

std::string tokenizer_file(const config::Config& cfg) {
  if (!cfg.model.tokenizer.empty()) return cfg.model.tokenizer;
  if (cfg.model.path.empty())
    throw ConfigError("model.path is not set (and no model.tokenizer): set it with --config or --set model.path=DIR");
  return cfg.model.path + "/tokenizer.json";
}

std::vector<std::string> domain_files(const config::Config& cfg) {
  if (cfg.data.domain.empty())
    throw ConfigError("data.domain is not set: the JSONL file of the domain samples (--set data.domain=FILE)");
  return {cfg.data.domain};
}

std::vector<std::string> candidate_files(const config::Config& cfg) {
  if (cfg.data.candidates.empty())
    throw ConfigError("data.candidates is not set: the JSONL files of the corpus (--set data.candidates=[a.jsonl,b.jsonl])");
  return cfg.data.candidates;
}

config::DType dtype_option(const std::string& option, const std::string& value) {
  const auto dt = config::parse_enum<config::DType>(value);
  if (!dt) throw UsageError(fmt::format("--{} '{}': expected bf16, fp16 or fp32", option, value));
  return *dt;
}

/// "A:B", "A:" or ":B" within [0, n].
data::Range range_option(const std::string& text, int64_t n) {
  const auto bad = [&](const std::string& why) {
    return UsageError(fmt::format("--range {}: {} (the corpus has {} records: 0:{})", text, why, n, n));
  };
  size_t colon = text.find(':');
  if (colon == std::string::npos) throw bad("expected A:B, the records A..B-1");
  auto number = [&](const std::string& s, int64_t dflt) -> int64_t {
    if (s.empty()) return dflt;
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || s[0] == '+') throw bad(fmt::format("'{}' is not an integer", s));
    return v;
  };
  data::Range r{number(text.substr(0, colon), 0), number(text.substr(colon + 1), n)};
  if (r.begin < 0 || r.begin > r.end || r.end > n) throw bad("expected 0 <= A <= B <= records");
  return r;
}

std::string reuse_folder(const config::Config& cfg, const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw UsageError(fmt::format("--reuse {}: no such folder", folder));
  if (fs::equivalent(folder, cfg.run.dir, ec))
    throw UsageError(fmt::format("--reuse {}: that is this run's own folder (run.dir); name an earlier run's", folder));
  return fs::absolute(folder).lexically_normal().string();
}

}  // namespace ntks::cli
