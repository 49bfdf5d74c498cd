#include "ntks/select/baseline_scores.h"

#include <torch/torch.h>  // the communicator's tensors

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/data/corpus_index.h"
#include "ntks/data/record.h"
#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"
#include "ntks/select/shuffle.h"

namespace ntks::select {

ScoreTable knn_scores(const Preselected& p, const std::string& preselected_path) {
  ScoreTable t;
  std::vector<size_t> order(p.records.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Rows in record order, as every score file has them.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p.records[a] < p.records[b]; });
  for (size_t i : order) {
    const double d = p.mean_distance[i];
    t.records.push_back(p.records[i]);
    t.ids.push_back(p.ids[i]);
    t.scores.push_back(static_cast<double>(p.counts[i]) - d / (1.0 + d));
  }
  const nlohmann::json meta = nlohmann::json::parse(p.metadata_json);
  t.metadata_json = nlohmann::json{{"stage", "score"},
                                   {"method", "knn"},
                                   {"preselected", std::filesystem::absolute(preselected_path).string()},
                                   {"domain_mean_metadata", meta.value("domain_metadata", nlohmann::json())},
                                   {"candidates_metadata", meta.value("candidates_metadata", nlohmann::json())}}
                        .dump();
  return t;
}

double random_key(uint64_t seed, uint64_t content_hash) {
  SplitMix64 g(seed ^ content_hash);
  return static_cast<double>(g.next() >> 11) * 0x1.0p-53;
}

ScoreTable random_scores(const data::CorpusIndex& index, const config::DataConfig& data, uint64_t seed,
                         dist::Communicator& comm, int64_t* skipped) {
  const data::Range mine = data::shard_range(index.size(), comm.rank(), comm.size());
  std::vector<int64_t> records;
  std::vector<double> keys;
  int64_t bad = 0;
  index.for_each(mine, [&](int64_t r, std::string_view line) {
    try {
      const data::ParsedRecord rec = data::parse_record(line, data);
      records.push_back(r);
      keys.push_back(random_key(seed, data::content_hash(rec)));
    } catch (const data::RecordError& e) {
      if (data.on_error == config::OnError::fail)
        throw InputError(fmt::format("{}: {} (data.on_error: skip leaves such lines out)", index.where(r), e.what()));
      if (bad++ < 5) log::warn("{}: skipped: {}", index.where(r), e.what());
    }
  });
  const at::Tensor all_records =
      comm.gatherv(torch::from_blob(records.data(), {static_cast<int64_t>(records.size())}, at::kLong).clone(), 0);
  const at::Tensor all_keys =
      comm.gatherv(torch::from_blob(keys.data(), {static_cast<int64_t>(keys.size())}, at::kDouble).clone(), 0);
  at::Tensor bad_count = torch::tensor({bad}, at::kLong);
  comm.allreduce(bad_count, dist::ReduceOp::sum);
  if (skipped != nullptr) *skipped = bad_count.item<int64_t>();
  ScoreTable t;
  if (!comm.is_root()) return t;
  const int64_t n = all_records.numel();
  t.records.assign(all_records.data_ptr<int64_t>(), all_records.data_ptr<int64_t>() + n);
  t.scores.assign(all_keys.data_ptr<double>(), all_keys.data_ptr<double>() + n);
  t.ids.reserve(static_cast<size_t>(n));
  for (int64_t r : t.records) t.ids.push_back(index.id(r));
  nlohmann::json corpus = nlohmann::json::array();
  for (size_t f = 0; f < index.files().size(); ++f) corpus.push_back(std::filesystem::absolute(index.files()[f]).string());
  t.metadata_json = nlohmann::json{{"stage", "score"},
                                   {"method", "random"},
                                   {"seed", seed},
                                   {"skipped", bad_count.item<int64_t>()},
                                   {"candidates_metadata", {{"corpus", corpus}}}}
                        .dump();
  return t;
}

}  // namespace ntks::select
