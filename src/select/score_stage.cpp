#include <torch/torch.h>

#include "ntks/select/score_stage.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/data/corpus_index.h"
#include "ntks/dist/communicator.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/config/enums.h"
#include "ntks/select/discriminant.h"
#include "ntks/select/metadata.h"
#include "ntks/select/preselected.h"
#include "ntks/select/run_files.h"
#include "ntks/select/scores.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"
#include "select/score_methods.h"

namespace ntks::select {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMadeByDomain = "ntk-select grads --which domain";
constexpr const char* kMadeByCandidates = "ntk-select grads --which candidates";

// The candidate rows must be exactly the pre-selected records: a row outside
// the set or a pre-selected record without a row means the gradients were
// computed for another candidate list.
void check_preselected_rows(const features::FeatureSet& set, const std::string& set_path, const Preselected& p,
                            const std::string& p_path) {
  const std::vector<int64_t> rows = set.indices(0, set.rows());
  std::vector<int64_t> sorted_rows = rows, want = p.records;
  std::sort(sorted_rows.begin(), sorted_rows.end());
  std::sort(want.begin(), want.end());
  if (auto d = std::adjacent_find(sorted_rows.begin(), sorted_rows.end()); d != sorted_rows.end())
    throw InputError(fmt::format("{}: record {} has two gradient rows", set_path, *d));
  std::vector<int64_t> extra, missing;
  std::set_difference(sorted_rows.begin(), sorted_rows.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::set_difference(want.begin(), want.end(), sorted_rows.begin(), sorted_rows.end(), std::back_inserter(missing));
  if (!extra.empty()) {
    const auto at = std::find(rows.begin(), rows.end(), extra.front()) - rows.begin();
    throw InputError(fmt::format("{}: {} of its {} rows are not in the pre-selected set {} (the first: record {}, id "
                                 "'{}'): the gradients were computed for another candidate list; rerun `{} "
                                 "--ids-file` with the pre-selected ids",
                                 set_path, extra.size(), rows.size(), p_path, extra.front(), set.ids(at, 1)[0],
                                 kMadeByCandidates));
  }
  if (!missing.empty()) {
    const auto at = std::find(p.records.begin(), p.records.end(), missing.front()) - p.records.begin();
    throw InputError(fmt::format("{}: {} of its {} pre-selected records have no gradient row in {} (the first: record "
                                 "{}, id '{}'): rerun `{} --ids-file` with the pre-selected ids",
                                 p_path, missing.size(), p.records.size(), set_path, missing.front(),
                                 p.ids.at(static_cast<size_t>(at)), kMadeByCandidates));
  }
}

// Rank 0, before any rank reads: everything that makes the scores meaningful.
void check_score_inputs(const RunFiles& f, const ScoreOptions& o) {
  require_input(f.grads_domain_mean(), kMadeByDomain);
  if (o.rule == config::ScoreRule::lda) {
    require_input(f.grads_domain(), kMadeByDomain);
    const store::FeatureReader rows(f.grads_domain());
    const store::FeatureReader mean(f.grads_domain_mean());
    if (rows.dim() != mean.dim())
      throw InputError(fmt::format("{} has {} columns but {} has {}: rerun `{}`", rows.path(), rows.dim(), mean.path(),
                                   mean.dim(), kMadeByDomain));
    check_same_grads_settings(f.grads_domain(), rows.metadata_json(), f.grads_domain_mean(), mean.metadata_json());
  }
  require_input(f.grads_candidates(), kMadeByCandidates);
  const store::FeatureReader mean(f.grads_domain_mean());
  const features::FeatureSet set(f.grads_candidates());
  if (mean.kind() != "grads_domain_mean" || mean.rows() != 1)
    throw InputError(fmt::format("{}: not a domain mean gradient (kind '{}', {} rows; expected 'grads_domain_mean', "
                                 "one row)",
                                 mean.path(), mean.kind(), mean.rows()));
  if (mean.dim() != set.dim())
    throw InputError(fmt::format("{} has {} columns but {} has {}: rerun `ntk-select grads`", mean.path(), mean.dim(),
                                 f.grads_candidates(), set.dim()));
  check_same_grads_settings(f.grads_domain_mean(), mean.metadata_json(), f.grads_candidates(), set.metadata_json());
  if (set.rows() == 0) throw InputError(fmt::format("{}: no candidate rows to score", f.grads_candidates()));
  std::error_code ec;
  if (fs::exists(f.preselected(), ec))
    check_preselected_rows(set, f.grads_candidates(), read_preselected(f.preselected()), f.preselected());
}

std::string score_metadata(const RunFiles& f, const store::FeatureReader& mean, const features::FeatureSet& set,
                           bool preselected, const ScoreOptions& o, double lambda) {
  return nlohmann::json{{"stage", "score"},
                        {"rule", std::string(config::to_string(o.rule))},
                        {"shrink", o.rule == config::ScoreRule::lda ? nlohmann::json(o.shrink) : nlohmann::json()},
                        {"lambda", o.rule == config::ScoreRule::lda ? nlohmann::json(lambda) : nlohmann::json()},
                        {"dim", set.dim()},
                        {"domain_mean", fs::absolute(f.grads_domain_mean()).string()},
                        {"domain_mean_metadata", nlohmann::json::parse(mean.metadata_json())},
                        {"candidates", fs::absolute(f.grads_candidates()).string()},
                        {"candidates_metadata", nlohmann::json::parse(set.metadata_json())},
                        {"preselected", preselected ? fs::absolute(f.preselected()).string() : ""}}
      .dump();
}

}  // namespace

namespace {

ScoreSummary score_ntk(const RunFiles& f, const ScoreOptions& options, dist::Communicator& comm) {
  if (comm.is_root()) check_score_inputs(f, options);
  comm.barrier();  // an error above ends the job (the top-level guard aborts) while the others wait here

  const store::FeatureReader mean_file(f.grads_domain_mean());
  const features::FeatureSet set(f.grads_candidates());
  const int64_t dim = set.dim(), n = set.rows();
  std::vector<float> mean_row(static_cast<size_t>(dim));
  mean_file.read_rows(0, 1, mean_row.data());
  const int64_t chunk =
      options.chunk_rows > 0 ? options.chunk_rows : std::max<int64_t>(1, (int64_t{32} << 20) / (4 * dim));
  // The vector every row is dotted with, and what is subtracted from each score.
  std::vector<double> target(mean_row.begin(), mean_row.end());
  double offset = 0, lambda = 0;
  if (options.rule == config::ScoreRule::lda) {
    std::string bytes;
    if (comm.is_root()) {
      const Discriminant d = fit_discriminant(store::FeatureReader(f.grads_domain()), set, options.shrink, chunk);
      log::info0("lda: fitted on {} gradient rows of dimension {}, lambda {:.6g}", d.rows, dim, d.lambda);
      bytes.assign(reinterpret_cast<const char*>(d.w.data()), d.w.size() * sizeof(double));
      bytes.append(reinterpret_cast<const char*>(&d.offset), sizeof(double));
      bytes.append(reinterpret_cast<const char*>(&d.lambda), sizeof(double));
    }
    comm.broadcast_bytes(bytes, 0);
    NTKS_CHECK(bytes.size() == (static_cast<size_t>(dim) + 2) * sizeof(double), "discriminant of {} bytes", bytes.size());
    std::memcpy(target.data(), bytes.data(), static_cast<size_t>(dim) * sizeof(double));
    std::memcpy(&offset, bytes.data() + dim * sizeof(double), sizeof(double));
    std::memcpy(&lambda, bytes.data() + (dim + 1) * sizeof(double), sizeof(double));
  }

  const at::Tensor all = detail::score_rows(set, chunk, comm, [&](const float* rows, int64_t count, double* out) {
    for (int64_t i = 0; i < count; ++i) out[i] = ntk_score(rows + i * dim, target.data(), dim) - offset;
  });
  ScoreTable t;
  const bool preselected = fs::exists(f.preselected());
  if (comm.is_root()) {
    t.records = set.indices(0, n);
    t.ids = set.ids(0, n);
    t.scores.assign(all.data_ptr<double>(), all.data_ptr<double>() + n);
    t.metadata_json = score_metadata(f, mean_file, set, preselected, options, lambda);
  }
  ScoreSummary summary = detail::write_table(f, options, t, dim, preselected, comm);
  summary.rows = n;
  summary.lambda = lambda;
  return summary;
}

}  // namespace

// Rank 0 writes the table; every rank returns the summary.
ScoreSummary detail::write_table(const RunFiles& f, const ScoreOptions& o, ScoreTable& t, int64_t dim, bool preselected,
                         dist::Communicator& comm) {
  ScoreSummary summary;
  summary.path = f.scores();
  summary.dim = dim;
  summary.preselected = preselected;
  summary.rule = o.rule;
  summary.method = o.method;
  if (comm.is_root()) {
    fs::create_directories(f.score_dir());
    write_scores(f.scores(), t);
    summary.rows = static_cast<int64_t>(t.records.size());
    if (!t.scores.empty()) {
      const auto [lo, hi] = std::minmax_element(t.scores.begin(), t.scores.end());
      double sum = 0;
      for (double v : t.scores) sum += v;
      summary.min = *lo;
      summary.max = *hi;
      summary.mean = sum / static_cast<double>(t.scores.size());
    }
  }
  comm.barrier();  // the file is complete before any rank returns
  return summary;
}


at::Tensor detail::score_rows(const features::FeatureSet& set, int64_t chunk, dist::Communicator& comm,
                              const std::function<void(const float*, int64_t, double*)>& fn) {
  const int64_t dim = set.dim();
  const data::Range mine = data::shard_range(set.rows(), comm.rank(), comm.size());
  at::Tensor local = at::empty({mine.size()}, at::kDouble);
  std::vector<float> rows(static_cast<size_t>(std::min(chunk, std::max<int64_t>(mine.size(), 1)) * dim));
  log::ProgressOptions po;
  po.unit = "candidates";
  log::Progress progress("score", mine.size(), po);
  for (int64_t b = mine.begin; b < mine.end; b += chunk) {
    const int64_t count = std::min(chunk, mine.end - b);
    set.read_rows(b, count, rows.data());
    fn(rows.data(), count, local.data_ptr<double>() + (b - mine.begin));
    progress.advance(count);
  }
  progress.finish();
  return comm.gatherv(local, 0);
}

ScoreSummary run_score(const ScoreOptions& options, dist::Communicator& comm) {
  const RunFiles f{options.run_dir};
  switch (options.method) {
    case config::SelectMethod::knn: return detail::score_knn(f, options, comm);
    case config::SelectMethod::random: return detail::score_random(f, options, comm);
    case config::SelectMethod::less: return detail::score_less(f, options, comm);
    case config::SelectMethod::dsir: return detail::score_dsir(f, options, comm);
    case config::SelectMethod::tsds: return detail::score_tsds(f, options, comm);
    case config::SelectMethod::ntk: break;
  }
  return score_ntk(f, options, comm);
}

}  // namespace ntks::select
