// The baselines' score stage (select.method knn, random, less, dsir, tsds):
// what each scores from, and the table it writes (baseline_scores.h, dsir.h,
// tsds.h, less_scores.h hold the scoring itself).

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/data/corpus_index.h"
#include "ntks/data/record.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/select/baseline_scores.h"
#include "ntks/select/dsir.h"
#include "ntks/select/less_scores.h"
#include "ntks/select/metadata.h"
#include "ntks/select/preselected.h"
#include "ntks/select/tsds.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"
#include "select/score_methods.h"

namespace ntks::select::detail {
namespace {

namespace fs = std::filesystem;

// The raw text DSIR featurises: the conversation's contents in order, one per
// line (any white space between them gives the same words).
std::string record_text(const data::ParsedRecord& r, const std::string& where) {
  if (r.format == config::RecordFormat::tokens)
    throw InputError(fmt::format("{}: a pre-tokenized record has no text for select.method dsir", where));
  std::string text;
  for (const data::Message& m : r.messages) {
    if (!text.empty()) text += '\n';
    text += m.content;
  }
  return text;
}

// Texts of the records of `range` that parse (bad lines: data.on_error), with their indices.
void read_texts(const data::CorpusIndex& index, data::Range range, const config::DataConfig& data,
                std::vector<std::string>& texts, std::vector<int64_t>& records, int64_t& skipped) {
  index.for_each(range, [&](int64_t r, std::string_view line) {
    try {
      texts.push_back(record_text(data::parse_record(line, data), index.where(r)));
      records.push_back(r);
    } catch (const data::RecordError& e) {
      if (data.on_error == config::OnError::fail)
        throw InputError(fmt::format("{}: {} (data.on_error: skip leaves such lines out)", index.where(r), e.what()));
      if (skipped++ < 5) log::warn("{}: skipped: {}", index.where(r), e.what());
    }
  });
}

std::vector<NgramFeatures> featurize(const std::vector<std::string>& texts, const DsirOptions& o) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  return dsir_featurize(views, o, std::max(1, at::get_num_threads()));
}

}  // namespace

ScoreSummary score_knn(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm) {
  ScoreTable t;
  if (comm.is_root()) {
    require_input(f.preselected(), "ntk-select preselect");
    t = knn_scores(read_preselected(f.preselected()), f.preselected());
    if (t.records.empty()) throw InputError(fmt::format("{}: no pre-selected candidates to score", f.preselected()));
  }
  comm.barrier();
  return write_table(f, o, t, 0, true, comm);
}

ScoreSummary score_random(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm) {
  data::IndexOptions io;
  io.id_field = o.data.fields.id;
  const data::CorpusIndex index = data::CorpusIndex::open_shared(o.candidate_files, io, comm);
  int64_t skipped = 0;
  ScoreTable t = random_scores(index, o.data, o.seed, comm, &skipped);
  if (comm.is_root() && t.records.empty())
    throw InputError(fmt::format("data.candidates ({} lines): no line is a record to draw from", index.size()));
  ScoreSummary s = write_table(f, o, t, 0, false, comm);
  s.skipped = skipped;
  return s;
}

// LESS: each rank scores a contiguous part of the candidate rows against
// every (unit) domain row; each score depends only on its row.
ScoreSummary score_less(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm) {
  if (comm.is_root()) {
    require_input(f.grads_domain(), "ntk-select grads --which domain");
    require_input(f.grads_candidates(), "ntk-select grads --which candidates");
    const store::FeatureReader domain(f.grads_domain());
    const features::FeatureSet set(f.grads_candidates());
    if (domain.dim() != set.dim())
      throw InputError(fmt::format("{} has {} columns but {} has {}: rerun `ntk-select grads`", domain.path(),
                                   domain.dim(), f.grads_candidates(), set.dim()));
    check_same_grads_settings(f.grads_domain(), domain.metadata_json(), f.grads_candidates(), set.metadata_json());
    if (set.rows() == 0) throw InputError(fmt::format("{}: no candidate rows to score", f.grads_candidates()));
  }
  comm.barrier();
  const store::FeatureReader domain(f.grads_domain());
  const features::FeatureSet set(f.grads_candidates());
  const int64_t dim = set.dim(), n = set.rows();
  std::vector<float> drows(static_cast<size_t>(domain.rows() * dim));
  domain.read_rows(0, domain.rows(), drows.data());
  const at::Tensor unit = unit_rows(torch::from_blob(drows.data(), {domain.rows(), dim}, at::kFloat), f.grads_domain());
  const int64_t chunk = o.chunk_rows > 0 ? o.chunk_rows : std::max<int64_t>(1, (int64_t{32} << 20) / (4 * dim));
  const at::Tensor all = score_rows(set, chunk, comm, [&](const float* rows, int64_t count, double* out) {
    less_scores(rows, count, unit, o.less_max, out);
  });
  ScoreTable t;
  if (comm.is_root()) {
    t.records = set.indices(0, n);
    t.ids = set.ids(0, n);
    t.scores.assign(all.data_ptr<double>(), all.data_ptr<double>() + n);
    t.metadata_json = nlohmann::json{{"stage", "score"},
                                     {"method", "less"},
                                     {"reduce", o.less_max ? "max" : "mean"},
                                     {"dim", dim},
                                     {"domain", fs::absolute(f.grads_domain()).string()},
                                     {"domain_mean_metadata", nlohmann::json::parse(domain.metadata_json())},
                                     {"candidates", fs::absolute(f.grads_candidates()).string()},
                                     {"candidates_metadata", nlohmann::json::parse(set.metadata_json())}}
                          .dump();
  }
  ScoreSummary s = write_table(f, o, t, dim, false, comm);
  s.rows = n;
  return s;
}


ScoreSummary score_dsir(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm) {
  DsirOptions d;
  d.buckets = o.dsir.buckets;
  d.ngram = static_cast<int>(o.dsir.ngram);
  d.target_smoothing = o.dsir.smoothing;
  d.min_words = o.dsir.min_words;
  data::IndexOptions io;
  io.id_field = o.data.fields.id;
  // The domain model: every rank reads the (small) domain set alike.
  const data::CorpusIndex domain = data::CorpusIndex::open_shared(o.domain_files, io, comm);
  std::vector<std::string> dtexts;
  std::vector<int64_t> drecords;
  int64_t skipped = 0;
  read_texts(domain, {0, domain.size()}, o.data, dtexts, drecords, skipped);
  if (dtexts.empty()) throw InputError("data.domain: no record to fit the DSIR domain model on");
  const std::vector<int64_t> target = dsir_bucket_totals(featurize(dtexts, d), d.buckets);
  // The pool model: each rank its part of the candidates, totals summed.
  const data::CorpusIndex index = data::CorpusIndex::open_shared(o.candidate_files, io, comm);
  std::vector<std::string> texts;
  std::vector<int64_t> records;
  int64_t bad = 0;
  read_texts(index, data::shard_range(index.size(), comm.rank(), comm.size()), o.data, texts, records, bad);
  const std::vector<NgramFeatures> features = featurize(texts, d);
  const std::vector<int64_t> mine = dsir_bucket_totals(features, d.buckets);
  at::Tensor totals = torch::tensor(std::vector<double>(mine.begin(), mine.end()), at::kDouble);
  at::Tensor bad_count = torch::tensor({static_cast<double>(bad)}, at::kDouble);
  comm.allreduce(totals, dist::ReduceOp::sum);
  comm.allreduce(bad_count, dist::ReduceOp::sum);
  const std::vector<int64_t> raw(totals.data_ptr<double>(), totals.data_ptr<double>() + totals.numel());
  const DsirModel model = fit_dsir(target, raw, d);
  const std::vector<double> scores =
      dsir_scores(dsir_log_weights(features, model, d), records,
                  o.dsir.resample == config::DsirResampleMode::gumbel ? DsirResample::gumbel : DsirResample::top_k,
                  o.seed);
  const at::Tensor all_records = comm.gatherv(torch::tensor(records, at::kLong), 0);
  const at::Tensor all_scores = comm.gatherv(torch::tensor(scores, at::kDouble), 0);
  ScoreTable t;
  if (comm.is_root()) {
    const int64_t n = all_records.numel();
    if (n == 0) throw InputError("data.candidates: no line is a record to weigh");
    t.records.assign(all_records.data_ptr<int64_t>(), all_records.data_ptr<int64_t>() + n);
    t.scores.assign(all_scores.data_ptr<double>(), all_scores.data_ptr<double>() + n);
    for (int64_t r : t.records) t.ids.push_back(index.id(r));
    nlohmann::json corpus = nlohmann::json::array();
    for (const std::string& file : index.files()) corpus.push_back(fs::absolute(file).string());
    t.metadata_json = nlohmann::json{{"stage", "score"},
                                     {"method", "dsir"},
                                     {"buckets", d.buckets},
                                     {"ngram", d.ngram},
                                     {"smoothing", d.target_smoothing},
                                     {"min_words", d.min_words},
                                     {"resample", o.dsir.resample == config::DsirResampleMode::gumbel ? "gumbel" : "top_k"},
                                     {"seed", o.seed},
                                     {"domain_ngrams", model.target_ngrams},
                                     {"pool_ngrams", model.raw_ngrams},
                                     {"candidates_metadata", {{"corpus", corpus}}}}
                          .dump();
    log::info0("dsir: domain model on {} records ({} n-grams), pool model on {} records ({} n-grams), {} buckets",
               dtexts.size(), model.target_ngrams, n, model.raw_ngrams, d.buckets);
  }
  ScoreSummary s = write_table(f, o, t, 0, false, comm);
  s.skipped = static_cast<int64_t>(bad_count.item<double>());
  return s;
}

ScoreSummary score_tsds(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm) {
  const std::string domain_path = f.embed_domain();
  const std::string cand_path = (fs::path(f.dir) / "embed" / "candidates.json").string();
  ScoreTable t;
  if (comm.is_root()) {
    // One process: the exact density term needs every prefetched row together.
    require_input(domain_path, "ntk-select embed");
    require_input(cand_path, "ntk-select embed");
    const store::FeatureReader domain(domain_path);
    const features::FeatureSet set(cand_path);
    if (domain.dim() != set.dim())
      throw InputError(fmt::format("{} has {} columns but {} has {}: rerun `ntk-select embed`", domain_path,
                                   domain.dim(), cand_path, set.dim()));
    check_same_grads_settings(domain_path, domain.metadata_json(), cand_path, set.metadata_json());
    const int64_t dim = set.dim(), n = set.rows();
    std::vector<float> q(static_cast<size_t>(domain.rows() * dim)), c(static_cast<size_t>(n * dim));
    domain.read_rows(0, domain.rows(), q.data());
    set.read_rows(0, n, c.data());
    TsdsOptions to;
    to.alpha = o.tsds.alpha;
    to.c = o.tsds.c;
    to.sigma = o.tsds.sigma;
    to.max_k = o.tsds.max_k;
    to.kde_k = o.tsds.kde_k;
    to.center = o.tsds.center;
    to.normalize = o.tsds.normalize;
    const TsdsResult r = tsds_probabilities(q.data(), domain.rows(), c.data(), n, dim, to);
    t.records = set.indices(0, n);
    t.ids = set.ids(0, n);
    t.scores = tsds_scores(r.probs, t.records, o.seed);
    log::info0("tsds: {} domain and {} candidate embeddings; K {}, density K {}, {} prefetched, {} with p > 0", domain.rows(),
               n, r.k, r.kde_k, r.prefetched, r.support);
    t.metadata_json = nlohmann::json{{"stage", "score"},
                                     {"method", "tsds"},
                                     {"alpha", to.alpha},
                                     {"c", to.c},
                                     {"sigma", to.sigma},
                                     {"max_k", to.max_k},
                                     {"kde_k", to.kde_k},
                                     {"center", to.center},
                                     {"normalize", to.normalize},
                                     {"seed", o.seed},
                                     {"support", r.support},
                                     {"domain_mean_metadata", nlohmann::json::parse(domain.metadata_json())},
                                     {"candidates_metadata", nlohmann::json::parse(set.metadata_json())}}
                          .dump();
  }
  comm.barrier();
  return write_table(f, o, t, 0, false, comm);
}

}  // namespace ntks::select::detail
