#include <chrono>
#include <exception>
#include <thread>

#include "ntks/cli/app.h"
#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/stop.h"

namespace ntks::cli {
namespace {

// How long ranks > 0 stay quiet after an error that every rank hits alike,
// waiting for rank 0's report and abort to end them. If rank 0 is not in the
// same state (it never is for usage/config errors) they report themselves.
constexpr std::chrono::seconds kQuietWait{5};

}  // namespace

int run_guarded(dist::Communicator* comm, const std::function<int()>& body) {
  int code = 0;
  bool everywhere = false;  // the same error on every rank
  std::string message;
  try {
    return body();
  } catch (const UsageError& e) {
    code = 2, everywhere = true, message = e.what();
  } catch (const ConfigError& e) {
    code = 2, everywhere = true, message = e.what();
  } catch (const util::StopRequested& e) {
    // Not an error: the last block is committed and a rerun resumes. Ranks
    // still inside their blocks are ended by the abort below; what they
    // committed stays.
    code = util::kStopExitCode, message = e.what();
  } catch (const std::exception& e) {
    code = 1, message = e.what();
  } catch (...) {
    code = 1, message = "unknown exception";
  }
  const bool multi = comm != nullptr && comm->size() > 1;
  const bool quiet = everywhere && log::rank() != 0;
  if (quiet && multi) std::this_thread::sleep_for(kQuietWait);
  if (!quiet || multi) log::write(log::Level::Error, message);
  if (multi) comm->abort(code);
  return code;
}

}  // namespace ntks::cli
