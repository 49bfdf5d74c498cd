#include "ntks/log/log.h"

#include <ctime>
#include <iostream>
#include <mutex>
#include <set>

#include "ntks/util/error.h"

namespace ntks::log {
namespace {

struct State {
  std::mutex mutex;
  Level level = Level::Info;
  int rank = 0;
  int size = 1;
  std::string stage;
  std::ostream* sink = nullptr;
  std::set<std::string> warned;
};

State& state() {
  static State s;
  return s;
}

std::string timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

const char* level_tag(Level l) {
  switch (l) {
    case Level::Debug: return "debug: ";
    case Level::Warn: return "warning: ";
    case Level::Error: return "error: ";
    default: return "";
  }
}

}  // namespace

Level parse_level(std::string_view name) {
  if (name == "debug") return Level::Debug;
  if (name == "info") return Level::Info;
  if (name == "warn" || name == "warning") return Level::Warn;
  if (name == "error") return Level::Error;
  if (name == "off") return Level::Off;
  throw UsageError(fmt::format("unknown log level '{}': expected debug, info, warn, error or off", name));
}

void set_level(Level l) { state().level = l; }
Level level() { return state().level; }

void set_rank(int r, int s) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().rank = r;
  state().size = s;
}
int rank() { return state().rank; }
int size() { return state().size; }

void set_sink(std::ostream* sink) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().sink = sink;
}

std::string prefix() {
  const State& s = state();
  std::string p = fmt::format("[{}/{}]", s.rank, s.size);
  if (!s.stage.empty()) p += fmt::format(" [{}]", s.stage);
  return p;
}

StageScope::StageScope(std::string stage) : previous_(std::move(state().stage)) {
  state().stage = std::move(stage);
}
StageScope::~StageScope() { state().stage = std::move(previous_); }
const std::string& stage() { return state().stage; }

void write(Level l, std::string_view message, bool rank0_only) {
  State& s = state();
  if (rank0_only && s.rank != 0) return;
  std::string line = fmt::format("{} {} {}{}\n", timestamp(), prefix(), level_tag(l), message);
  std::lock_guard<std::mutex> lock(s.mutex);
  std::ostream& out = s.sink ? *s.sink : std::cerr;
  out << line;
  out.flush();
}

void warn_once(const std::string& key, std::string_view message) {
  if (!enabled(Level::Warn)) return;  // --log-level error or off
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (!state().warned.insert(key).second) return;
  }
  write(Level::Warn, message);
}

}  // namespace ntks::log
