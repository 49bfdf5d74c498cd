#pragma once
// Progress of long work: count, rate and ETA.
//
// On a terminal the line is redrawn in place (at most a few times a second);
// elsewhere (Slurm logs, pipes) a full line is printed every `interval_s`
// seconds, so a log file shows steady progress without a flood. finish()
// prints one summary line. By default only rank 0 reports, since ranks
// advance in step; pass rank0_only = false for per-rank work.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace ntks::log {

struct ProgressOptions {
  std::string unit = "samples";   ///< what is counted, plural ("samples", "tokens")
  double interval_s = -1;         ///< non-TTY line period; <0: default_progress_interval()
  bool rank0_only = true;         ///< report from rank 0 only
  int tty = -1;                   ///< 1/0 force terminal mode; -1: isatty(stderr)
  std::function<double()> clock;  ///< seconds, monotonic; empty: steady_clock (tests inject)
  std::ostream* out = nullptr;    ///< nullptr: the log sink
};

/// Seconds between progress lines when stderr is not a terminal: the
/// --progress-interval option, else $NTKS_PROGRESS_INTERVAL, else 30.
double default_progress_interval();
void set_default_progress_interval(double seconds);

/// "1h02m", "3m05s", "12s" (used for ETA and elapsed times).
std::string format_duration(double seconds);

class Progress {
 public:
  /// total < 0 when unknown: then no percentage and no ETA.
  Progress(std::string what, std::int64_t total, ProgressOptions options = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::int64_t n = 1);
  /// Prints the summary line (once); the destructor calls it if you did not.
  void finish();

  std::int64_t count() const { return count_; }
  double elapsed() const;
  /// Items per second so far (0 before any time has passed).
  double rate() const;
  /// Seconds left at the current rate; <0 when unknown.
  double eta() const;
  /// The text of a progress line, without prefix: "embed 120/1000 (12.0%) 40.0 samples/s ETA 22s".
  std::string status_line() const;

 private:
  void emit(bool final);
  double now() const;

  std::string what_;
  std::int64_t total_;
  ProgressOptions opt_;
  bool active_;
  bool tty_;
  double start_;
  double last_emit_;
  std::int64_t count_ = 0;
  bool finished_ = false;
};

}  // namespace ntks::log
