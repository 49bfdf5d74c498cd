#include "train/pretrain_logs.h"

#include <filesystem>
#include <sstream>

#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/svg_plot.h"

namespace ntks::train::detail {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  if (!fs::exists(path)) return out;
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

}  // namespace

StepLogFile::StepLogFile(std::string path, int64_t keep_through_step) : path_(std::move(path)) {
  std::string kept;
  for (const nlohmann::json& j : read_lines(path_)) {
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

void write_loss_curve(const std::string& run_dir) {
  util::PlotSeries train{"training loss", "#1f77b4"}, eval{"held-out loss", "#d62728"};
  eval.markers = true;
  for (const auto& j : read_lines((fs::path(run_dir) / "train_log.jsonl").string())) {
    train.x.push_back(j.value("tokens_seen", 0.0) / 1e6);
    train.y.push_back(j.value("loss", 0.0));
  }
  for (const auto& j : read_lines((fs::path(run_dir) / "eval_log.jsonl").string())) {
    eval.x.push_back(j.value("tokens_seen", 0.0) / 1e6);
    eval.y.push_back(j.value("loss", 0.0));
  }
  util::PlotOptions o;
  o.title = "pretraining: next-token loss";
  o.x_label = "tokens seen (millions)";
  o.y_label = "loss (nats per token)";
  write_file_atomic((fs::path(run_dir) / "loss_curve.svg").string(), util::svg_line_chart({train, eval}, o));
}

}  // namespace ntks::train::detail
