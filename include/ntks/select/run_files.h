#pragma once
// The files of the run folder (RUN = run.dir) that `score` and `select` read
// and write, and the check that an input exists, naming the stage that makes it.

#include <string>

namespace ntks::select {

struct RunFiles {
  std::string dir;  ///< RUN

  std::string embed_domain() const;       ///< RUN/embed/domain.h5
  std::string grads_domain() const;       ///< RUN/grads/domain.h5
  std::string grads_domain_mean() const;  ///< RUN/grads/domain_mean.h5
  std::string grads_candidates() const;   ///< RUN/grads/candidates.json
  std::string preselected() const;        ///< RUN/preselect/preselected.h5
  std::string score_dir() const;          ///< RUN/score
  std::string scores() const;             ///< RUN/score/scores.h5
  std::string select_dir() const;         ///< RUN/select
};

/// InputError "<path> is missing: it is made by `<made_by>` (run that first)"
/// unless `path` is a regular file.
void require_input(const std::string& path, const std::string& made_by);

}  // namespace ntks::select
