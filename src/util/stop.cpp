// SIGTERM/SIGINT → a flag polled at block boundaries (see stop.h).

#include "ntks/util/stop.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "ntks/log/log.h"

namespace ntks::util {
namespace {

// Lock-free atomics are async-signal-safe; the handler may run on any thread
// (torch's pool threads included).
std::atomic<bool> g_stop{false};
std::atomic<int> g_scopes{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
  if (g_scopes.load() > 0 && !g_stop.exchange(true)) return;  // stop at the next block boundary
  // Outside a stoppable section, or a second signal: the default action.
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// The stop point at which the test hook raises SIGTERM, and on which rank;
// 0 when unset.
struct TestHook {
  long after = 0;
  int rank = -1;  // -1: every rank
};
TestHook test_hook() {
  TestHook h;
  const char* env = std::getenv("NTKS_TEST_TERM_AFTER_BLOCKS");
  if (env == nullptr) return h;
  const std::string s = env;
  const size_t colon = s.find(':');
  h.after = std::atol(s.substr(0, colon).c_str());
  if (colon != std::string::npos) h.rank = std::atoi(s.substr(colon + 1).c_str());
  return h;
}

}  // namespace

void install_stop_handlers() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // reads and writes in flight carry on
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    return true;
  }();
  (void)installed;
}

bool stop_requested() { return g_stop.load(); }

StopScope::StopScope() { g_scopes.fetch_add(1); }
StopScope::~StopScope() { g_scopes.fetch_sub(1); }

bool poll_stop() {
  static const TestHook hook = test_hook();
  static long points = 0;
  if (hook.after > 0 && ++points == hook.after && (hook.rank < 0 || hook.rank == log::rank())) std::raise(SIGTERM);
  return g_stop.load();
}

void stop_point(const std::string& what) {
  if (poll_stop())
    throw StopRequested(fmt::format("stopped by a signal after committing {}; exit status {}: run the same command "
                                    "again to continue from there",
                                    what, kStopExitCode));
}

}  // namespace ntks::util
