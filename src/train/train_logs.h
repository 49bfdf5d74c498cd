#pragma once
// The JSONL logs of a training run and its loss curve (private to src/train):
// pretraining and fine-tuning write them alike.

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntks/train/trainer.h"

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

/// A training log's line for step `s`: step, epoch, lr, loss, grad_norm,
/// samples, tokens, tokens_seen (all steps so far, a resumed run's earlier
/// ones included) and seconds.
nlohmann::json step_line(const StepLog& s, int64_t tokens_seen);

/// The lines of a JSONL log (none when `path` is empty or absent); a cut
/// last line (a killed run) is left out, any other bad line is an InputError.
std::vector<nlohmann::json> read_step_log(const std::string& path);

/// What a loss curve plots: the "loss" of every line of a training log (and
/// of a held-out log, when there is one) against the lines' `x_key` times
/// `x_scale`.
struct LossCurve {
  std::string title;
  std::string x_key = "tokens_seen";
  double x_scale = 1e-6;
  std::string x_label = "tokens seen (millions)";
  std::string y_label = "loss (nats per token)";
};

/// Writes the SVG `svg` from `train_log` and `eval_log` (either may be
/// absent or empty: "" for none).
void write_loss_curve(const std::string& train_log, const std::string& eval_log, const std::string& svg,
                      const LossCurve& curve);

}  // namespace ntks::train::detail
