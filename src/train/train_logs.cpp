#include "train/train_logs.h"

#include <filesystem>
#include <sstream>

#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/svg_plot.h"

namespace ntks::train::detail {

namespace fs = std::filesystem;

std::vector<nlohmann::json> read_step_log(const std::string& path) {
  std::vector<nlohmann::json> out;
  if (path.empty() || !fs::exists(path)) return out;
  std::istringstream in(read_file(path));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      // The last line of a killed run may be cut short; anything else is damage.
      if (in.peek() != EOF) throw InputError(fmt::format("{}:{}: not a JSON line", path, n));
    }
  }
  return out;
}

nlohmann::json step_line(const StepLog& s, int64_t tokens_seen) {
  return {{"step", s.step},       {"epoch", s.epoch},   {"lr", s.lr},
          {"loss", s.loss},       {"grad_norm", s.grad_norm}, {"samples", s.samples},
          {"tokens", s.tokens},   {"tokens_seen", tokens_seen}, {"seconds", s.seconds}};
}

StepLogFile::StepLogFile(std::string path, int64_t keep_through_step) : path_(std::move(path)) {
  std::string kept;
  for (const nlohmann::json& j : read_step_log(path_)) {
    if (j.value("step", int64_t{-1}) > keep_through_step) break;
    kept += j.dump() + "\n";
    last_ = j;
  }
  write_file_atomic(path_, kept);
  out_.open(path_, std::ios::binary | std::ios::app);
  if (!out_) throw InputError(fmt::format("{}: cannot be written", path_));
}

void StepLogFile::append(const nlohmann::json& line) {
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw InputError(fmt::format("{}: write failed", path_));
  last_ = line;
}

void write_loss_curve(const std::string& train_log, const std::string& eval_log, const std::string& svg,
                      const LossCurve& curve) {
  util::PlotSeries train, eval;
  train.label = "training loss";
  train.color = "#1f77b4";
  eval.label = "held-out loss";
  eval.color = "#d62728";
  eval.markers = true;
  for (const auto& j : read_step_log(train_log)) {
    train.x.push_back(j.value(curve.x_key, 0.0) * curve.x_scale);
    train.y.push_back(j.value("loss", 0.0));
  }
  for (const auto& j : read_step_log(eval_log)) {
    eval.x.push_back(j.value(curve.x_key, 0.0) * curve.x_scale);
    eval.y.push_back(j.value("loss", 0.0));
  }
  std::vector<util::PlotSeries> series = {train};
  if (!eval_log.empty()) series.push_back(eval);
  util::PlotOptions o;
  o.title = curve.title;
  o.x_label = curve.x_label;
  o.y_label = curve.y_label;
  write_file_atomic(svg, util::svg_line_chart(series, o));
}

}  // namespace ntks::train::detail
