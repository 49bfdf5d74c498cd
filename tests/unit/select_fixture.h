#pragma once
// A run folder with the files `score` and `select` read, written directly
// (no model): two candidate corpus files (a CRLF line, unicode, a blank line,
// a last line without newline), a domain file, grads feature files in two
// shards with metadata shaped like the grads stage's, and the pre-selection.
// Rows are chosen so that the order of the best is known: records 4 and 12
// have identical rows (a tie), then 15, 1 and 2.

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "ntks/features/feature_set.h"
#include "ntks/select/preselected.h"
#include "ntks/store/feature_file.h"
#include "test_util.h"

namespace ntks::testing {

struct SelectRun {
  TempDir dir;
  std::string run = dir.file("run");
  std::string domain, cand_a, cand_b;
  std::string cand_a_text, cand_b_text, domain_text;
  static constexpr int64_t kDim = 12;
  // Candidate records with gradient rows (the pre-selected ones), ascending.
  std::vector<int64_t> records = {0, 1, 2, 4, 5, 7, 9, 10, 12, 13, 15};
  // Domain records with a row (record 2 stands for a line skipped as bad input).
  std::vector<int64_t> domain_records = {0, 1, 3};
  std::vector<float> mean;

  SelectRun() {
    cand_a_text = "{\"id\": \"c0\", \"instruction\": \"q0\", \"output\": \"a0\"}\n"
                  "{\"id\": \"c1\", \"instruction\": \"crlf line\", \"output\": \"a1\"}\r\n"
                  "\n"
                  "{\"id\": \"c2\", \"instruction\": \"unicode \u00e9 \u6f22\u5b57 \\u00e9 \U0001F642\", "
                  "\"output\":  \"a2\"   }\n";
    for (int i = 3; i < 10; ++i)
      cand_a_text += fmt::format("{{\"id\": \"c{}\", \"instruction\": \"q{}\", \"output\": \"a{}\"}}\n", i, i, i);
    for (int i = 10; i < 16; ++i)
      cand_b_text += fmt::format("{{\"id\": \"c{}\", \"instruction\": \"q{}\", \"output\": \"a{}\"}}{}", i, i, i,
                                 i < 15 ? "\n" : "");  // the last line has no newline
    for (int i = 0; i < 4; ++i)
      domain_text += fmt::format("{{\"id\": \"d{}\", \"prompt\": \"dose {}\", \"response\": \"{} mg\"}}\n", i, i, i);
    cand_a = dir.write("cand_a.jsonl", cand_a_text);
    cand_b = dir.write("cand_b.jsonl", cand_b_text);
    domain = dir.write("domain.jsonl", domain_text);
    for (int64_t j = 0; j < kDim; ++j) mean.push_back(value(1000, j));
    write_grads();
    write_preselected();
  }

  /// A deterministic value in [-1, 1).
  static float value(int64_t row, int64_t col) {
    uint64_t x = static_cast<uint64_t>(row * 7919 + col * 104729 + 17) * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 29;
    return static_cast<float>(static_cast<double>(x % 2000) / 1000.0 - 1.0);
  }

  /// The gradient row of candidate record r.
  std::vector<float> candidate_row(int64_t r) const {
    std::vector<float> row(kDim);
    const float boost = r == 4 || r == 12 ? 10.0f : r == 15 ? 5.0f : r == 1 ? 4.0f : r == 2 ? 3.0f : 0.0f;
    for (int64_t j = 0; j < kDim; ++j) row[j] = boost != 0 ? boost * mean[j] : value(r, j);
    return row;
  }

  std::string cand_id(int64_t r) const { return fmt::format("c{}", r); }

  /// Metadata shaped like cli stage_metadata.
  static std::string metadata(const std::vector<std::string>& corpus, int64_t seed = 42, bool ids = false) {
    nlohmann::json c = nlohmann::json::array();
    for (const auto& f : corpus) c.push_back(std::filesystem::absolute(f).string());
    nlohmann::json stage = {{"name", "grads"}, {"output", "logit_sum"}, {"dim", kDim}, {"seed", seed}, {"scale", 1.0}};
    if (ids) stage["ids"] = "/somewhere/ids.txt";
    return nlohmann::json{{"model", "/models/tiny"}, {"model_weights", "0123"}, {"adapter", "abcd"},
                          {"dtype", "fp32"},        {"template", "plain"},   {"max_seq_len", 64},
                          {"corpus", c},            {"stage", stage}}
        .dump();
  }

  std::string grads_dir() const { return run + "/grads"; }

  void write_feature_file(const std::string& path, const std::string& kind, const std::string& meta,
                          const std::vector<int64_t>& recs, const std::vector<std::vector<float>>& rows,
                          const std::vector<std::string>& ids) const {
    store::FeatureFileSpec spec;
    spec.dim = kDim;
    spec.kind = kind;
    spec.metadata_json = meta;
    auto w = store::FeatureWriter::create(path, spec);
    std::vector<float> flat;
    for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    std::vector<uint64_t> keys(recs.size(), 0);
    std::vector<int64_t> tokens(recs.size(), 5);
    w.append(flat.data(), static_cast<int64_t>(recs.size()), keys.data(), ids, recs.data(), tokens.data());
    w.finalize();
  }

  /// Candidate shards (rows of `recs`, two shards) and candidates.json.
  void write_candidates(const std::vector<int64_t>& recs, const std::string& meta) const {
    std::filesystem::create_directories(grads_dir());
    const size_t half = recs.size() / 2 + 1;
    for (int s = 0; s < 2; ++s) {
      std::vector<int64_t> part(recs.begin() + (s ? half : 0), s ? recs.end() : recs.begin() + half);
      std::vector<std::vector<float>> rows;
      std::vector<std::string> ids;
      for (int64_t r : part) {
        rows.push_back(candidate_row(r));
        ids.push_back(cand_id(r));
      }
      write_feature_file(features::shard_file(grads_dir(), "candidates", s, 2), "grads", meta, part, rows, ids);
    }
    features::write_feature_set_index(grads_dir(), "candidates", 2);
  }

  void write_domain(int64_t seed = 42) const {
    std::filesystem::create_directories(grads_dir());
    const std::string meta = metadata({domain}, seed);
    std::vector<std::vector<float>> rows;
    std::vector<std::string> ids;
    for (int64_t r : domain_records) {
      std::vector<float> row(kDim);
      for (int64_t j = 0; j < kDim; ++j) row[j] = value(500 + r, j);
      rows.push_back(row);
      ids.push_back(fmt::format("d{}", r));
    }
    write_feature_file(grads_dir() + "/domain.h5", "grads", meta, domain_records, rows, ids);
    write_feature_file(grads_dir() + "/domain_mean.h5", "grads_domain_mean", meta, {-1}, {mean}, {"domain_mean"});
  }

  void write_grads() const {
    write_domain();
    write_candidates(records, metadata({cand_a, cand_b}, 42, true));
  }

  /// The pre-selection of `recs` (in a relevance order unrelated to the scores).
  void write_preselected(std::vector<int64_t> recs = {}) const {
    if (recs.empty()) recs = records;
    std::reverse(recs.begin(), recs.end());
    select::Preselected p;
    for (int64_t r : recs) {
      p.records.push_back(r);
      p.ids.push_back(cand_id(r));
      p.counts.push_back(r % 3 + 1);
      p.mean_distance.push_back(0.5 + static_cast<double>(r) / 8);
    }
    std::filesystem::create_directories(run + "/preselect");
    select::write_preselected(run + "/preselect/preselected.h5", p);
  }

  std::string command(const std::string& stage, const std::string& extra = "",
                      const std::string& launcher = "") const {
    return fmt::format("{} {} {} --set run.dir={} --set data.domain={} --set data.candidates=[{},{}] {} 2>&1",
                       launcher, NTKS_BINARY, stage, run, domain, cand_a, cand_b, extra);
  }
};

}  // namespace ntks::testing
