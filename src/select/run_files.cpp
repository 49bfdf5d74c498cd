#include "ntks/select/run_files.h"

#include <filesystem>

#include "ntks/util/error.h"

namespace ntks::select {

namespace fs = std::filesystem;

namespace {
std::string under(const std::string& dir, const char* sub, const char* name) {
  return (fs::path(dir) / sub / name).string();
}
}  // namespace

std::string RunFiles::embed_domain() const { return under(dir, "embed", "domain.h5"); }
std::string RunFiles::grads_domain() const { return under(dir, "grads", "domain.h5"); }
std::string RunFiles::grads_domain_mean() const { return under(dir, "grads", "domain_mean.h5"); }
std::string RunFiles::grads_candidates() const { return under(dir, "grads", "candidates.json"); }
std::string RunFiles::preselected() const { return under(dir, "preselect", "preselected.h5"); }
std::string RunFiles::score_dir() const { return (fs::path(dir) / "score").string(); }
std::string RunFiles::scores() const { return under(dir, "score", "scores.h5"); }
std::string RunFiles::select_dir() const { return (fs::path(dir) / "select").string(); }

void require_input(const std::string& path, const std::string& made_by) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw InputError(fmt::format("{} is missing: it is made by `{}` (run that first)", path, made_by));
}

}  // namespace ntks::select
