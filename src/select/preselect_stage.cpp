#include "ntks/select/preselect_stage.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "ntks/data/corpus_index.h"
#include "ntks/dist/communicator.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/select/faiss_info.h"
#include "ntks/select/knn.h"
#include "ntks/select/metadata.h"
#include "ntks/select/preselected.h"
#include "ntks/select/relevance.h"
#include "ntks/select/run_files.h"
#include "ntks/select/shuffle.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::select {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kMadeBy = "ntk-select embed";
constexpr int kIvfIterations = 10;
// Training rows per IVF list (Faiss advises at least 39).
constexpr std::int64_t kIvfTrainPerList = 64;

struct Inputs {
  std::string domain, candidates;
};

Inputs inputs(const std::string& run_dir) {
  return {(fs::path(run_dir) / "embed" / "domain.h5").string(),
          (fs::path(run_dir) / "embed" / "candidates.json").string()};
}

json parse_metadata(const std::string& path, const std::string& text) {
  try {
    json j = json::parse(text);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  throw InputError(fmt::format("{}: its metadata is not a JSON object: not written by `{}`", path, kMadeBy));
}

// Both embeddings must come from the same model, adapter, template and data
// settings (stage_metadata in cli/stage_common.cpp); only the corpus differs.
void check_same_embedding(const std::string& a_path, const json& a, const std::string& b_path, const json& b) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : a.items())
    if (key != "corpus" && (!b.contains(key) || b.at(key) != value)) keys.push_back(key);
  for (const auto& [key, value] : b.items())
    if (key != "corpus" && !a.contains(key)) keys.push_back(key);
  if (keys.empty()) return;
  std::string list;
  for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
  throw InputError(fmt::format("{} and {} are embeddings from different models, adapters or settings (they differ "
                               "in: {}): rerun `{}` so both use the same ones",
                               a_path, b_path, list, kMadeBy));
}

struct Plan {
  std::int64_t domain_rows = 0, candidate_rows = 0, dim = 0;
  std::int64_t k = 0, nlist = 0, nprobe = 0;
};

// Every rank computes the same plan from the same files and options; rank 0
// also warns.
Plan make_plan(const PreselectOptions& o, const store::FeatureReader& domain, const features::FeatureSet& cands,
               bool warn) {
  Plan p;
  p.domain_rows = domain.rows();
  p.candidate_rows = cands.rows();
  p.dim = domain.dim();
  p.k = std::min(o.k, p.candidate_rows);
  if (warn && p.k < o.k)
    log::warn("preselect.k = {} is larger than the {} candidates: using k = {} (every candidate)", o.k,
              p.candidate_rows, p.k);
  if (warn && p.domain_rows * p.k < o.size)
    log::warn("{} domain points x k = {} give at most {} candidates, fewer than the {} to keep (preselect.size / "
              "multiple): raise preselect.k",
              p.domain_rows, p.k, p.domain_rows * p.k, o.size);
  if (o.ivf) {
    p.nlist = o.nlist > 0 ? o.nlist
                          : std::max<std::int64_t>(1, std::llround(4 * std::sqrt(static_cast<double>(p.candidate_rows))));
    if (o.nlist == 0) p.nlist = std::min(p.nlist, p.candidate_rows);
    p.nprobe = std::min(o.nprobe, p.nlist);
    if (warn && p.nprobe < o.nprobe)
      log::warn("preselect.nprobe = {} is more than the {} IVF lists: probing all of them (exact)", o.nprobe,
                p.nlist);
  }
  return p;
}

// Rank 0, before the others read anything.
void check_preselect_inputs(const PreselectOptions& o, const Inputs& in) {
  if (o.gpu) {
    throw ConfigError(fmt::format(
        "preselect.gpu: true, but this build {}: set preselect.gpu: false (the CPU search gives the same result)",
        faiss_gpu() ? "has no GPU kNN path (Faiss GPU indexes are not used by preselect)"
                    : "has no Faiss GPU support (NTKS_WITH_FAISS_GPU=OFF; Debian's libfaiss is CPU-only)"));
  }
  if (o.k < 1) throw ConfigError(fmt::format("preselect.k = {}: expected at least 1", o.k));
  if (o.size < 1) throw ConfigError(fmt::format("pre-selection size m = {}: expected at least 1", o.size));
  if (o.ivf && (o.nlist < 0 || o.nprobe < 1))
    throw ConfigError(fmt::format("preselect.nlist = {}, preselect.nprobe = {}: expected nlist >= 0 (0: automatic) "
                                  "and nprobe >= 1",
                                  o.nlist, o.nprobe));
  require_input(in.domain, kMadeBy + std::string(" --which domain"));
  require_input(in.candidates, kMadeBy + std::string(" --which candidates"));
  const store::FeatureReader domain(in.domain);
  const features::FeatureSet cands(in.candidates);
  if (domain.kind() != "embeddings")
    throw InputError(fmt::format("{}: holds '{}' rows, expected 'embeddings' (made by `{}`)", in.domain, domain.kind(),
                                 kMadeBy));
  check_same_embedding(in.domain, parse_metadata(in.domain, domain.metadata_json()), in.candidates,
                       parse_metadata(in.candidates, cands.metadata_json()));
  if (domain.dim() != cands.dim())
    throw InputError(fmt::format("{} has {} columns but {} has {}: rerun `{}`", in.domain, domain.dim(),
                                 in.candidates, cands.dim(), kMadeBy));
  if (!o.domain_files.empty()) check_corpus(in.domain, domain.metadata_json(), o.domain_files, "data.domain");
  if (!o.candidate_files.empty())
    check_corpus(in.candidates, cands.metadata_json(), o.candidate_files, "data.candidates");
  if (domain.rows() == 0) throw InputError(fmt::format("{}: no domain rows", in.domain));
  if (cands.rows() == 0) throw InputError(fmt::format("{}: no candidate rows", in.candidates));
  if (domain.rows() > cands.rows())
    throw InputError(fmt::format("the domain set ({} rows, {}) is larger than the candidate corpus ({} rows, {}): "
                                 "pre-selection picks candidates near the domain set from a much larger corpus",
                                 domain.rows(), in.domain, cands.rows(), in.candidates));
  if (o.ivf && o.nlist > cands.rows())
    throw ConfigError(fmt::format("preselect.nlist = {} is more than the {} candidates ({}): use fewer lists or 0 "
                                  "(automatic)",
                                  o.nlist, cands.rows(), in.candidates));
  make_plan(o, domain, cands, /*warn=*/true);
}

// InputError naming the file, row and record of the first non-finite value:
// a NaN has no place in a distance order.
void check_finite(const float* rows, std::int64_t n, std::int64_t dim, const std::string& path, std::int64_t first_row,
                  const std::vector<std::int64_t>& records) {
  for (std::int64_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(rows[i])) {
      const std::int64_t r = i / dim;
      throw InputError(fmt::format("{}: row {} (record {}) has a non-finite value in column {}: rerun `{}`", path,
                                   first_row + r, records[r], i % dim, kMadeBy));
    }
  }
}

// Rank 0: k-means on a seeded sample of the candidate rows (row order of the
// sample fixed by the seed alone), the centroids sent to every rank.
IvfCentroids train_quantizer(const PreselectOptions& o, const Plan& p, const features::FeatureSet& cands,
                             const std::string& path, dist::Communicator& comm) {
  IvfCentroids c;
  c.nlist = p.nlist;
  c.dim = p.dim;
  std::string bytes;
  if (comm.is_root()) {
    const std::int64_t n_train = std::min(p.candidate_rows, kIvfTrainPerList * p.nlist);
    std::vector<std::int64_t> order(static_cast<std::size_t>(p.candidate_rows));
    std::iota(order.begin(), order.end(), 0);
    portable_shuffle(order, o.seed);
    order.resize(static_cast<std::size_t>(n_train));
    std::vector<float> sample(static_cast<std::size_t>(n_train * p.dim));
    for (std::int64_t i = 0; i < n_train; ++i) {
      cands.read_rows(order[i], 1, sample.data() + i * p.dim);
      check_finite(sample.data() + i * p.dim, 1, p.dim, path, order[i], cands.indices(order[i], 1));
    }
    const auto start = std::chrono::steady_clock::now();
    c = train_ivf(sample.data(), n_train, p.dim, p.nlist, kIvfIterations);
    log::info("IVF: {} lists trained on {} candidate rows ({} iterations, {:.1f} s)", p.nlist, n_train,
              kIvfIterations,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    bytes.assign(reinterpret_cast<const char*>(c.data.data()), c.data.size() * sizeof(float));
  }
  comm.broadcast_bytes(bytes, 0);
  NTKS_CHECK(bytes.size() == static_cast<std::size_t>(p.nlist * p.dim) * sizeof(float), "centroids of {} bytes",
             bytes.size());
  c.data.resize(static_cast<std::size_t>(p.nlist * p.dim));
  std::memcpy(c.data.data(), bytes.data(), bytes.size());
  return c;
}

// The domain rows whose IVF recall is measured: a sample of `count` drawn
// with `seed` (salted, so it is not the quantizer's training order), ascending.
std::vector<std::int64_t> recall_rows(std::int64_t domain_rows, std::int64_t count, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(domain_rows));
  std::iota(order.begin(), order.end(), 0);
  portable_shuffle(order, seed ^ 0x7265'6361'6c6cULL);  // "recall"
  order.resize(static_cast<std::size_t>(std::min(domain_rows, count)));
  std::sort(order.begin(), order.end());
  return order;
}

// The IVF recall measured on a sample of the domain points (recall_rows):
// their exact search runs beside the IVF one over the same candidate rows.
struct RecallProbe {
  std::vector<std::int64_t> rows;
  std::optional<KnnSearch> exact;
};

std::string preselect_metadata(const PreselectOptions& o, const Plan& p, const Inputs& in,
                               const store::FeatureReader& domain, const features::FeatureSet& cands,
                               std::int64_t recall_queries, double recall) {
  json settings = {{"k", p.k}, {"size", o.size}, {"index", o.ivf ? "ivf" : "flat"}};
  if (recall_queries > 0) settings["ivf_recall"] = {{"queries", recall_queries}, {"recall_at_k", recall}};
  if (o.ivf) {
    settings["nlist"] = p.nlist;
    settings["nprobe"] = p.nprobe;
    settings["seed"] = o.seed;
    settings["train_rows"] = std::min(p.candidate_rows, kIvfTrainPerList * p.nlist);
    settings["iterations"] = kIvfIterations;
  }
  return json{{"stage", "preselect"},
              {"settings", settings},
              {"domain", fs::absolute(in.domain).string()},
              {"domain_rows", p.domain_rows},
              {"domain_metadata", json::parse(domain.metadata_json())},
              {"candidates", fs::absolute(in.candidates).string()},
              {"candidate_rows", p.candidate_rows},
              {"candidates_metadata", json::parse(cands.metadata_json())},
              {"dim", p.dim}}
      .dump();
}

// Rank 0: the outputs, each written whole under a temporary name and renamed.
void write_outputs(const PreselectOptions& o, const Plan& p, const Inputs& in, const store::FeatureReader& domain,
                   const features::FeatureSet& cands, const Relevance& r, const RunFiles& f,
                   const std::string& ids_path, std::int64_t recall_queries, double recall) {
  Preselected out;
  out.records = r.records;
  out.counts = r.counts;
  out.mean_distance = r.mean_distance;
  out.ids.reserve(r.rows.size());
  std::string lines;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    std::string id = cands.ids(r.rows[i], 1).at(0);
    if (id.find_first_of("\n\r") != std::string::npos)
      throw InputError(fmt::format("{}: the id of record {} contains a line break, which {} cannot hold (one id per "
                                   "line): give the records ids without line breaks",
                                   in.candidates, r.records[i], ids_path));
    lines += id;
    lines += '\n';
    out.ids.push_back(std::move(id));
  }
  out.metadata_json = preselect_metadata(o, p, in, domain, cands, recall_queries, recall);
  fs::create_directories(fs::path(f.preselected()).parent_path());
  write_file_atomic(ids_path, lines);
  write_preselected(f.preselected(), out);
}

}  // namespace

PreselectSummary run_preselect(const PreselectOptions& o, dist::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  const Inputs in = inputs(o.run_dir);
  if (comm.is_root()) check_preselect_inputs(o, in);
  comm.barrier();  // an error above ends the job (the top-level guard aborts) while the others wait here

  const store::FeatureReader domain(in.domain);
  const features::FeatureSet cands(in.candidates);
  const Plan p = make_plan(o, domain, cands, /*warn=*/false);
  std::vector<float> queries(static_cast<std::size_t>(p.domain_rows * p.dim));
  domain.read_rows(0, p.domain_rows, queries.data());
  check_finite(queries.data(), p.domain_rows, p.dim, in.domain, 0, domain.indices(0, p.domain_rows));

  IvfCentroids centroids;
  if (o.ivf) centroids = train_quantizer(o, p, cands, in.candidates, comm);
  KnnSearch search(queries.data(), p.domain_rows, p.dim, p.k, o.ivf ? &centroids : nullptr, p.nprobe);
  RecallProbe probe;
  if (o.ivf && o.recall_sample > 0) {
    probe.rows = recall_rows(p.domain_rows, o.recall_sample, o.seed);
    std::vector<float> sample(probe.rows.size() * static_cast<std::size_t>(p.dim));
    for (std::size_t i = 0; i < probe.rows.size(); ++i)
      std::memcpy(sample.data() + i * static_cast<std::size_t>(p.dim), queries.data() + probe.rows[i] * p.dim,
                  static_cast<std::size_t>(p.dim) * sizeof(float));
    probe.exact.emplace(sample.data(), static_cast<std::int64_t>(probe.rows.size()), p.dim, p.k);
  }

  const data::Range mine = data::shard_range(p.candidate_rows, comm.rank(), comm.size());
  const std::int64_t chunk =
      o.chunk_rows > 0 ? o.chunk_rows : std::max<std::int64_t>(1, (std::int64_t{32} << 20) / (4 * p.dim));
  std::vector<float> rows(static_cast<std::size_t>(std::min(chunk, std::max<std::int64_t>(mine.size(), 1)) * p.dim));
  log::ProgressOptions po;
  po.unit = "candidates";
  log::Progress progress(fmt::format("kNN {} domain points x candidates (rank 0's part)", p.domain_rows), mine.size(),
                         po);
  for (std::int64_t b = mine.begin; b < mine.end; b += chunk) {
    const std::int64_t count = std::min(chunk, mine.end - b);
    cands.read_rows(b, count, rows.data());
    const std::vector<std::int64_t> records = cands.indices(b, count);
    check_finite(rows.data(), count, p.dim, in.candidates, b, records);
    search.add(rows.data(), count, records.data(), b);
    if (probe.exact) probe.exact->add(rows.data(), count, records.data(), b);
    progress.advance(count);
  }
  progress.finish();
  if (search.retries() > 0)
    log::debug("kNN: {} searches repeated with more proposals (near-ties)", search.retries());

  PreselectSummary s;
  const RunFiles f{o.run_dir};
  s.path = f.preselected();
  s.ids_path = (fs::path(f.preselected()).parent_path() / "preselected_ids.txt").string();
  s.domain_rows = p.domain_rows;
  s.candidate_rows = p.candidate_rows;
  s.dim = p.dim;
  s.k = p.k;
  s.size = o.size;
  s.retries = search.retries();

  const auto gather = [&](const Neighbors& mine) {
    std::vector<Neighbors> lists;
    for (const std::string& part : comm.gatherv_bytes(to_bytes(mine), 0)) lists.push_back(neighbors_from_bytes(part));
    return comm.is_root() ? merge_neighbors(lists) : Neighbors();
  };
  const Neighbors merged = gather(search.result());
  const Neighbors exact = probe.exact ? gather(probe.exact->result()) : Neighbors();
  std::string kept;
  double recall = -1;
  if (comm.is_root()) {
    if (probe.exact) {
      recall = recall_at_k(merged, probe.rows, exact);
      log::info("IVF recall@{}: {:.4f} of the exact {} nearest of {} sampled domain points (nlist {}, nprobe {})", p.k,
                recall, p.k, probe.rows.size(), p.nlist, p.nprobe);
    }
    const Relevance r = rank_by_relevance(merged, o.size);
    if (r.with_count < o.size)
      log::warn("only {} candidates are among some domain point's {} nearest, fewer than the {} to keep: keeping "
                "those {}",
                r.with_count, p.k, o.size, r.with_count);
    write_outputs(o, p, in, domain, cands, r, f, s.ids_path, static_cast<std::int64_t>(probe.rows.size()), recall);
    s.with_count = r.with_count;
    kept.assign(reinterpret_cast<const char*>(r.records.data()), r.records.size() * sizeof(std::int64_t));
  }
  comm.broadcast_bytes(kept, 0);  // also: the files are complete before any rank returns
  s.records.resize(kept.size() / sizeof(std::int64_t));
  std::memcpy(s.records.data(), kept.data(), kept.size());
  std::int64_t with_count = s.with_count;
  std::string wc(reinterpret_cast<const char*>(&with_count), sizeof with_count);
  wc.append(reinterpret_cast<const char*>(&recall), sizeof recall);
  comm.broadcast_bytes(wc, 0);
  std::memcpy(&s.with_count, wc.data(), sizeof with_count);
  std::memcpy(&s.recall, wc.data() + sizeof with_count, sizeof recall);
  s.recall_queries = static_cast<std::int64_t>(probe.rows.size());
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace ntks::select
