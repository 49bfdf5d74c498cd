#include "ntks/util/error.h"

namespace ntks::detail {

void throw_check_failure(const char* expr, const char* file, int line,
                         const std::string& message) {
  std::string what = fmt::format("internal error at {}:{}: check `{}` failed", file, line, expr);
  if (!message.empty()) what += ": " + message;
  throw InternalError(what);
}

}  // namespace ntks::detail
