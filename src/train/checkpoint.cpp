#include "ntks/train/checkpoint.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/model/adapter.h"
#include "ntks/model/safetensors.h"
#include "ntks/model/save_model.h"
#include "ntks/model/weights.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "state.json";

std::string step_name(int64_t step) { return fmt::format("step-{:07d}", step); }

/// Steps of the complete checkpoint folders under `root`, ascending.
std::vector<std::pair<int64_t, fs::path>> complete_checkpoints(const fs::path& root) {
  std::vector<std::pair<int64_t, fs::path>> out;
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("step-", 0) != 0 || name.size() != 12) continue;  // .partial and strays
    if (!std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (!fs::exists(e.path() / kStateFile)) continue;
    out.emplace_back(std::stoll(name.substr(5)), e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void write_moments(const std::string& dir, const std::vector<std::string>& names, const std::vector<at::Tensor>& m,
                   const std::vector<at::Tensor>& v, int64_t steps) {
  NTKS_CHECK(names.size() == m.size() && names.size() == v.size(), "{} names for {} / {} moments", names.size(),
             m.size(), v.size());
  std::vector<model::TensorBytes> moments;
  for (size_t i = 0; i < names.size(); ++i) {
    moments.push_back(model::tensor_bytes("m." + names[i], m[i]));
    moments.push_back(model::tensor_bytes("v." + names[i], v[i]));
  }
  model::write_safetensors((fs::path(dir) / kOptimizerFile).string(), moments, {{"steps", std::to_string(steps)}});
}

void save_checkpoint(const std::string& root, const model::Decoder& decoder, const std::vector<std::string>& names,
                     const AdamW& optimizer, const CheckpointInfo& info, CheckpointWeights weights, int keep) {
  const fs::path final_dir = fs::path(root) / step_name(info.step);
  const fs::path work = fs::path(root) / (step_name(info.step) + ".partial");
  fs::remove_all(work);
  fs::create_directories(work);
  if (weights == CheckpointWeights::adapter) {
    model::save_adapter(decoder, work.string());
  } else {
    model::save_model(decoder, work.string());
  }
  write_moments(work.string(), names, optimizer.first_moments(), optimizer.second_moments(), optimizer.steps());
  const nlohmann::json state = {{"step", info.step},
                                {"total_steps", info.total_steps},
                                {"loss", info.loss},
                                {"identity", nlohmann::json::parse(info.identity)}};
  write_file_atomic((work / kStateFile).string(), state.dump(2) + "\n");  // last: marks the folder complete
  fs::remove_all(final_dir);
  fs::rename(work, final_dir);
  auto all = complete_checkpoints(root);
  for (size_t i = 0; i + static_cast<size_t>(std::max(1, keep)) < all.size(); ++i) fs::remove_all(all[i].second);
}

std::optional<Checkpoint> latest_checkpoint(const std::string& root) {
  const auto all = complete_checkpoints(root);
  if (all.empty()) return std::nullopt;
  Checkpoint c;
  c.folder = all.back().second.string();
  const std::string path = (all.back().second / kStateFile).string();
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(path));
    c.info.step = j.at("step").get<int64_t>();
    c.info.total_steps = j.at("total_steps").get<int64_t>();
    c.info.loss = j.at("loss").get<double>();
    c.info.identity = j.at("identity").dump();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a checkpoint state file ({}); remove the folder {} to resume from an "
                                 "earlier checkpoint",
                                 path, e.what(), c.folder));
  }
  if (c.info.step != all.back().first)
    throw InputError(fmt::format("{}: records step {} but its folder is {}", path, c.info.step, c.folder));
  return c;
}

ResumeState read_resume_state(const Checkpoint& c, const std::vector<std::string>& names,
                              const std::vector<at::Tensor>& params) {
  NTKS_CHECK(names.size() == params.size(), "{} names for {} parameters", names.size(), params.size());
  const std::string path = (fs::path(c.folder) / kOptimizerFile).string();
  const model::WeightStore store = model::WeightStore::open(path);
  ResumeState r;
  r.steps_done = c.info.step;
  auto take = [&](const std::string& name, const at::Tensor& like) {
    const model::TensorView& view = store.get(name);
    if (view.shape != like.sizes().vec())
      throw InputError(fmt::format("{}: tensor '{}' has shape {} but the model needs {}", path, name,
                                   c10::str(at::IntArrayRef(view.shape)), c10::str(like.sizes())));
    return model::tensor_from_view(view, store.keep_alive()).to(like.device(), at::kFloat).clone();
  };
  for (size_t i = 0; i < names.size(); ++i) {
    r.m.push_back(take("m." + names[i], params[i]));
    r.v.push_back(take("v." + names[i], params[i]));
  }
  return r;
}

void test_kill_point(int64_t steps_done) {
  static const char* env = std::getenv("NTKS_TEST_KILL_AFTER_STEPS");
  if (env != nullptr && std::atoll(env) == steps_done) std::raise(SIGKILL);
}

}  // namespace ntks::train
