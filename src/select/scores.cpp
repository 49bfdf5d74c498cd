#include "ntks/select/scores.h"

#include "ntks/store/array_file.h"
#include "ntks/util/error.h"

namespace ntks::select {

namespace {
constexpr const char* kScoresFormat = "ntks-scores";
}

double ntk_score(const float* row, const double* mean, std::int64_t dim) {
  double s = 0;
  for (std::int64_t j = 0; j < dim; ++j) s += static_cast<double>(row[j]) * mean[j];
  return s;
}

void write_scores(const std::string& path, const ScoreTable& t) {
  const auto n = static_cast<std::int64_t>(t.records.size());
  NTKS_CHECK(t.ids.size() == t.records.size() && t.scores.size() == t.records.size(),
             "{} records, {} ids, {} scores", t.records.size(), t.ids.size(), t.scores.size());
  store::ArrayFileWriter w(path);
  w.add("records", {n}, t.records.data());
  w.add_strings("ids", t.ids);
  w.add("scores", {n}, t.scores.data());
  w.set_attribute("format", kScoresFormat);
  w.set_attribute("format_version", std::int64_t{1});
  w.set_attribute("metadata", t.metadata_json);
  w.finalize();
}

ScoreTable read_scores(const std::string& path) {
  const store::ArrayFileReader r(path);
  if (r.string_attribute("format").value_or("") != kScoresFormat || r.int_attribute("format_version").value_or(0) != 1)
    throw InputError(fmt::format("{}: not a score file of `ntk-select score` (format '{}', version 1 expected)", path,
                                 kScoresFormat));
  ScoreTable t;
  t.records = r.read_int64("records");
  t.ids = r.read_strings("ids");
  t.scores = r.read_double("scores");
  t.metadata_json = r.string_attribute("metadata").value_or("{}");
  if (t.ids.size() != t.records.size() || t.scores.size() != t.records.size())
    throw InputError(fmt::format("{}: {} records, {} ids and {} scores: the columns must have one length", path,
                                 t.records.size(), t.ids.size(), t.scores.size()));
  return t;
}

}  // namespace ntks::select
