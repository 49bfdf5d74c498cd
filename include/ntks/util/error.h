#pragma once
// Error types of ntk-select.
//
// User mistakes (bad config, bad input files, a wrong combination of stages)
// throw a typed exception whose message names the file, line, key, tensor or
// rank and what was expected. Broken internal invariants throw InternalError
// through NTKS_CHECK, which reports the expression, file:line and values in
// release builds too. At the top level (cli/guard.h) any of them ends the whole
// MPI job with the message printed once.

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace ntks {

/// Base of every error ntk-select throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration key, value or combination is wrong (names the key and source).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// An input file (corpus, checkpoint, feature store) is missing, malformed or foreign.
class InputError : public Error {
 public:
  using Error::Error;
};

/// The command line is wrong (unknown option, missing argument).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A collective failed or was asked for something its backend cannot do.
class DistError : public Error {
 public:
  using Error::Error;
};

/// A broken internal invariant: a bug in ntk-select, not in the user's input.
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void throw_check_failure(const char* expr, const char* file, int line,
                                      const std::string& message);
}  // namespace detail

}  // namespace ntks

/// Checks an internal invariant in every build type. Extra arguments are a fmt
/// format string and values that explain the failure:
///   NTKS_CHECK(rows == keys.size(), "rows {} vs keys {}", rows, keys.size());
#define NTKS_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ::ntks::detail::throw_check_failure(#cond, __FILE__, __LINE__,           \
                                          ::fmt::format("" __VA_ARGS__));      \
    }                                                                          \
  } while (0)
