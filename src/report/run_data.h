#pragma once
// What the report reads from a run folder, loaded once and shared by the
// sections. Each part is optional: a run stopped early, a method without a
// stage or a file that cannot be read leaves the part empty with the reason,
// and the sections that need it say so instead of failing the report.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ntks/select/preselected.h"

namespace ntks::report {

using nlohmann::json;

/// A part of the run: its value, or why there is none.
template <class T>
struct Part {
  std::optional<T> value;
  std::string why;  ///< set when value is empty
  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

/// Every scored candidate and its place in the selection: RUN/select/scores.h5
/// or, before `select`, RUN/score/scores.h5 (then nothing is selected).
struct Scored {
  std::string path;
  std::vector<std::int64_t> records;
  std::vector<std::string> ids;
  std::vector<double> scores;
  std::vector<std::int64_t> rank;       ///< 1 = best; 0 = not selected
  std::vector<std::int64_t> knn_count;  ///< -1: no pre-selection
  bool selected_known = false;          ///< from RUN/select (rank is meaningful)
  std::int64_t selected() const;        ///< rows with rank > 0
};

/// The candidate corpus as the stages read it.
struct CorpusInfo {
  std::vector<std::string> files;
  std::string id_field = "id";
  json fields = json::object();  ///< data.fields the stages used (instruction, output, ...)
};

struct RunData {
  std::string dir;
  std::optional<json> run_manifest;             ///< RUN/manifest.json (after a complete `run`)
  std::map<std::string, json> stage_manifests;  ///< RUN/<stage>/manifest.json that exist
  std::string method = "ntk";                   ///< select.method of the scores
  std::string rule = "ntk";                     ///< score.rule (ntk, lda)
  Part<Scored> scored;
  Part<select::Preselected> preselected;
  Part<CorpusInfo> corpus;

  std::string path(const std::string& relative) const;  ///< RUN/relative
  /// Why the selection (ranks from RUN/select/scores.h5) is not known; "" when it is.
  std::string selection_missing() const;
};

/// Reads what is there. InputError naming the folder when it does not exist
/// or holds neither RUN/manifest.json nor any stage manifest.
RunData load_run(const std::string& dir);

/// A JSON file, nullopt when absent; InputError naming it when unreadable.
std::optional<json> read_json_file(const std::string& path);

}  // namespace ntks::report
