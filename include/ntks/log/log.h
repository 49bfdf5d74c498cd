#pragma once
// One logging wrapper for the whole tool.
//
// Every line goes to stderr (stdout is kept for data a subcommand prints) as
//   2026-11-25 14:03:12 [1/4] [embed] message
// with the rank/size of the process and the current stage, so interleaved
// Slurm logs of many ranks stay readable. info0()/warn0() print on rank 0 only
// (for facts every rank knows); warn_once() prints a given warning once.

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace ntks::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

/// Parses "debug", "info", "warn", "error" or "off"; throws UsageError otherwise.
Level parse_level(std::string_view name);
void set_level(Level level);
Level level();
inline bool enabled(Level l) { return l >= level(); }

/// Called once the communicator exists; before that lines show [0/1].
void set_rank(int rank, int size);
int rank();
int size();

/// Redirects output (tests). nullptr restores stderr.
void set_sink(std::ostream* sink);

/// The "[rank/size] [stage]" part of a line.
std::string prefix();

/// Sets the stage shown on every line while it lives; restores the previous one.
class StageScope {
 public:
  explicit StageScope(std::string stage);
  ~StageScope();
  StageScope(const StageScope&) = delete;
  StageScope& operator=(const StageScope&) = delete;

 private:
  std::string previous_;
};
const std::string& stage();

/// Writes one finished line (prefix added here). rank0_only drops it on ranks > 0.
void write(Level level, std::string_view message, bool rank0_only = false);

template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Debug)) write(Level::Debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Info)) write(Level::Info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info0(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Info)) write(Level::Info, fmt::format(f, std::forward<A>(a)...), true);
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Warn)) write(Level::Warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn0(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Warn)) write(Level::Warn, fmt::format(f, std::forward<A>(a)...), true);
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Error)) write(Level::Error, fmt::format(f, std::forward<A>(a)...));
}

/// Prints the warning the first time `key` is seen in this process, never again.
void warn_once(const std::string& key, std::string_view message);

}  // namespace ntks::log
