#include "train/resumable_run.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/log/log.h"
#include "ntks/train/identity.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::train::detail {

namespace fs = std::filesystem;

std::string finished_identity(const std::string& summary, const std::string& result) {
  if (!fs::exists(summary) || !fs::exists(result)) return {};
  try {
    return nlohmann::json::parse(read_file(summary)).at("identity").dump();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

std::optional<Checkpoint> resume_point(const std::string& root, const std::string& identity, const std::string& what,
                                       const std::string& data_key) {
  std::optional<Checkpoint> latest = latest_checkpoint(root);
  if (!latest) return latest;
  const std::string diff = identity_differences(latest->info.identity, identity, data_key);
  if (!diff.empty())
    throw InputError(fmt::format("{} was made by another {} run ({}); rerun with --restart to discard its checkpoints, "
                                 "or restore that run's config and inputs",
                                 latest->folder, what, diff));
  return latest;
}

std::optional<ResumeState> resume_state(const std::string& root, const std::string& folder,
                                        const std::vector<std::string>& names, const std::vector<at::Tensor>& params) {
  if (folder == "fresh") return std::nullopt;
  const std::optional<Checkpoint> c = latest_checkpoint(root);
  NTKS_CHECK(c && c->folder == folder, "checkpoint {} vanished", folder);
  return read_resume_state(*c, names, params);
}

bool checkpoint_due(int64_t steps_done, int64_t every, int64_t total_steps) {
  return every > 0 && steps_done % every == 0 && steps_done < total_steps;
}

void write_checkpoint(dist::Communicator& comm, const std::string& root, const model::Decoder& decoder,
                      const std::vector<std::string>& names, const AdamW& optimizer, const CheckpointInfo& info,
                      CheckpointWeights weights, const std::function<void()>& written) {
  if (comm.is_root()) {
    save_checkpoint(root, decoder, names, optimizer, info, weights);
    if (written) written();
    log::info0("checkpoint after step {}: {}", info.step, (fs::path(root) / fmt::format("step-{:07d}", info.step)).string());
  }
  comm.barrier();
}

}  // namespace ntks::train::detail
