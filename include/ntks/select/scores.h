#pragma once
// NTK utilities of candidates (DESIGN §2 step 5) and their file,
// RUN/score/scores.h5:
//   records  int64   [n]  global record index in the candidate corpus (data.candidates)
//   ids      utf-8   [n]  the record's id
//   scores   float64 [n]  s(c) = <g(c), mean_D g>, projected gradients
//   attributes format = "ntks-scores", format_version = 1, metadata (JSON text:
//   the grads files and their metadata, the pre-selection used)
// Rows in the order of RUN/grads/candidates.json (ascending record index).

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::select {

struct ScoreTable {
  std::vector<std::int64_t> records;  ///< global candidate record indices
  std::vector<std::string> ids;       ///< their ids
  std::vector<double> scores;         ///< their NTK utilities
  std::string metadata_json = "{}";   ///< inputs and settings (JSON text)
};

/// Writes `path` atomically ("<path>.partial", then renamed). InternalError when
/// the columns differ in length.
void write_scores(const std::string& path, const ScoreTable& t);
/// Reads a file of write_scores(); InputError naming the file when it is
/// missing, incomplete or not a score file.
ScoreTable read_scores(const std::string& path);

/// One candidate's utility: sum over j = 0 .. dim-1, in that order, of
/// double(row[j]) * mean[j]. The fixed order makes the value independent of
/// how rows are split over ranks or chunks.
double ntk_score(const float* row, const double* mean, std::int64_t dim);

}  // namespace ntks::select
