#pragma once
// The JSONL logs of a pretraining run and its loss curve (private to
// src/train).

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace ntks::train::detail {

/// A JSONL log, one object per line with a "step" key, continued across
/// resumes: opening it keeps the lines up to `keep_through_step` (a killed
/// run may have logged steps after its last checkpoint) and appends after
/// them. Each line is flushed as written.
class StepLogFile {
 public:
  StepLogFile(std::string path, int64_t keep_through_step);
  void append(const nlohmann::json& line);
  /// The last kept or appended line (empty object when none).
  const nlohmann::json& last() const { return last_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
  nlohmann::json last_ = nlohmann::json::object();
};

/// loss_curve.svg from train_log.jsonl and eval_log.jsonl in `run_dir`:
/// training loss per step and held-out loss, against tokens seen.
void write_loss_curve(const std::string& run_dir);

}  // namespace ntks::train::detail
