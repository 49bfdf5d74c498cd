#include "ntks/log/progress.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "ntks/log/log.h"

namespace ntks::log {
namespace {

// A terminal redraw faster than this only burns cycles.
constexpr double kTtyRedrawPeriod = 0.2;
double g_interval = -1;

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

double default_progress_interval() {
  if (g_interval > 0) return g_interval;
  if (const char* env = std::getenv("NTKS_PROGRESS_INTERVAL")) {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end != env && v > 0) return v;
  }
  return 30.0;
}

void set_default_progress_interval(double seconds) { g_interval = seconds; }

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto total = static_cast<long long>(std::llround(s));
  long long h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  if (h > 0) return fmt::format("{}h{:02}m", h, m);
  if (m > 0) return fmt::format("{}m{:02}s", m, sec);
  return fmt::format("{}s", sec);
}

Progress::Progress(std::string what, std::int64_t total, ProgressOptions options)
    : what_(std::move(what)), total_(total), opt_(std::move(options)) {
  active_ = !(opt_.rank0_only && rank() != 0) && enabled(Level::Info);
  tty_ = opt_.tty >= 0 ? opt_.tty == 1 : ::isatty(STDERR_FILENO) == 1;
  if (opt_.interval_s <= 0) opt_.interval_s = default_progress_interval();
  start_ = now();
  last_emit_ = start_;
}

Progress::~Progress() {
  // A destructor must not throw; an unwinding exception has its own message.
  try {
    finish();
  } catch (...) {
  }
}

double Progress::now() const { return opt_.clock ? opt_.clock() : steady_seconds(); }
double Progress::elapsed() const { return now() - start_; }

double Progress::rate() const {
  double e = elapsed();
  return e > 0 ? static_cast<double>(count_) / e : 0.0;
}

double Progress::eta() const {
  double r = rate();
  if (total_ < 0 || r <= 0) return -1;
  return static_cast<double>(std::max<std::int64_t>(total_ - count_, 0)) / r;
}

std::string Progress::status_line() const {
  std::string s = what_ + " " + std::to_string(count_);
  if (total_ >= 0) {
    double pct = total_ > 0 ? 100.0 * static_cast<double>(count_) / static_cast<double>(total_) : 100.0;
    s += fmt::format("/{} ({:.1f}%)", total_, pct);
  }
  s += fmt::format(" {:.1f} {}/s", rate(), opt_.unit);
  if (total_ >= 0) s += " ETA " + format_duration(eta());
  return s;
}

void Progress::advance(std::int64_t n) {
  count_ += n;
  if (!active_ || finished_) return;
  double t = now();
  double period = tty_ ? kTtyRedrawPeriod : opt_.interval_s;
  if (t - last_emit_ >= period) {
    last_emit_ = t;
    emit(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (active_) emit(true);
}

void Progress::emit(bool final) {
  std::string text = final ? fmt::format("{} done: {} {} in {} ({:.1f} {}/s)", what_, count_, opt_.unit,
                                         format_duration(elapsed()), rate(), opt_.unit)
                           : status_line();
  if (tty_ && opt_.out == nullptr) {
    // Redraw in place; the final line ends it with a newline.
    std::cerr << "\r\x1b[K" << prefix() << " " << text << (final ? "\n" : "") << std::flush;
    return;
  }
  if (opt_.out) {
    *opt_.out << prefix() << " " << text << "\n";
  } else {
    write(Level::Info, text);
  }
}

}  // namespace ntks::log
