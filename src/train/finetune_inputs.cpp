// What a fine-tuning run reads and depends on (finetune.h): the training
// file, the adapter folder, the seed, the identity, and the check that the
// selection's mixture is still what `select` wrote.

#include <xxhash.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/select/run_files.h"
#include "ntks/train/finetune.h"
#include "ntks/train/identity.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"

namespace ntks::train {

namespace fs = std::filesystem;

std::string finetune_data(const config::Config& cfg) {
  if (!cfg.finetune.data.empty()) return cfg.finetune.data;
  return (fs::path(select::RunFiles{cfg.run.dir}.select_dir()) / "mixture.jsonl").string();
}

std::string finetune_out(const config::Config& cfg) {
  if (!cfg.finetune.out.empty()) return cfg.finetune.out;
  return (fs::path(cfg.run.dir) / "finetune" / "adapter").string();
}

int64_t finetune_seed(const config::Config& cfg) {
  return cfg.finetune.seed != 0 ? cfg.finetune.seed : cfg.run.seed;
}

std::string finetune_identity(const config::Config& cfg) {
  const bool own_seed = cfg.finetune.seed != 0;
  const auto wanted = [own_seed](const std::string& key) {
    // out and checkpoint_every change where and how often, not the adapter;
    // the data file enters by its fingerprint.
    if (starts_with(key, "finetune."))
      return key != "finetune.out" && key != "finetune.checkpoint_every" && key != "finetune.data";
    if (key == "run.seed") return !own_seed;
    if (starts_with(key, "data.")) return key != "data.domain" && key != "data.candidates";
    return starts_with(key, "lora.") || key == "model.dtype" || key == "model.template" || key == "model.max_seq_len";
  };
  return run_identity(cfg, wanted, {finetune_data(cfg)});
}

void check_selection_mixture(const std::string& run_dir, const std::string& mixture) {
  const std::string report_path = (fs::path(select::RunFiles{run_dir}.select_dir()) / "report.json").string();
  const std::string instead = "or set finetune.data to train on a file as it is";
  if (!fs::is_regular_file(mixture))
    throw InputError(fmt::format("{} is missing: the training mixture is made by `ntk-select select` (or `run`); run "
                                 "that first, {}",
                                 mixture, instead));
  if (!fs::is_regular_file(report_path))
    throw InputError(fmt::format("{} is missing, so {} is not a complete selection: rerun `ntk-select select`, {}",
                                 report_path, mixture, instead));
  nlohmann::json recorded;
  try {
    recorded = nlohmann::json::parse(read_file(report_path)).at("mixture");
    recorded.at("bytes").get<uint64_t>();
    recorded.at("xxh3").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: records no size and hash of the mixture ({}); it was written by an older "
                                 "ntk-select: rerun `ntk-select select`, {}",
                                 report_path, e.what(), instead));
  }
  const std::string bytes = read_file(mixture);
  const std::string hash = fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
  const auto want_bytes = recorded["bytes"].get<uint64_t>();
  const auto want_hash = recorded["xxh3"].get<std::string>();
  if (bytes.size() != want_bytes || hash != want_hash)
    throw InputError(fmt::format("{} no longer holds the lines `ntk-select select` wrote ({} bytes, XXH3 {}; {} "
                                 "records {} bytes, XXH3 {}): it was changed since; rerun `ntk-select select`, {}",
                                 mixture, bytes.size(), hash, report_path, want_bytes, want_hash, instead));
}

}  // namespace ntks::train
