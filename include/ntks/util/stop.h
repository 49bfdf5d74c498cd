#pragma once
// Graceful stop on SIGTERM/SIGINT at the next block boundary.
//
// Cluster schedulers announce the end of a job (time limit, preemption) with
// SIGTERM some time before SIGKILL (Slurm: sbatch --signal=TERM@120). The
// resumable stages (embed, grads) commit their output block by block, so the
// best use of that notice is to finish the block in hand, commit it and exit
// with kStopExitCode; the requeued job then continues after that block.
//
// The handlers only set an async-signal-safe flag, and only while a
// stoppable section (StopScope) is running. Anywhere else — loading a model,
// a kNN search, scoring — a signal keeps its default action (the process
// ends at once), as does a second signal while a stop is already pending
// (pressing Ctrl-C twice).

#include <stdexcept>
#include <string>

namespace ntks::util {

/// Exit status of a run stopped by SIGTERM/SIGINT after committing its last
/// whole block: EX_TEMPFAIL of <sysexits.h>, "try again". Rerunning the same
/// command resumes.
constexpr int kStopExitCode = 75;

/// Installs the SIGTERM and SIGINT handlers (once; later calls do nothing).
void install_stop_handlers();

/// Whether a stop was requested by a signal since start-up.
bool stop_requested();

/// While one exists, SIGTERM/SIGINT request a stop instead of ending the
/// process. Not nested across threads: one per block loop.
class StopScope {
 public:
  StopScope();
  ~StopScope();
  StopScope(const StopScope&) = delete;
  StopScope& operator=(const StopScope&) = delete;
};

/// Thrown at a block boundary after a stop was requested; the top-level guard
/// turns it into kStopExitCode.
class StopRequested : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The test hook below, then whether a stop is pending, without throwing:
/// for loops whose ranks must agree on where to stop (training steps) before
/// they commit and call stop_point().
bool poll_stop();

/// Call at a block boundary, after the block is committed: throws
/// StopRequested when a stop is pending. `what` names what was committed.
/// Test hook: NTKS_TEST_TERM_AFTER_BLOCKS=n (or n:r, rank r only) makes the
/// process send itself SIGTERM at its n-th poll (stop_point or poll_stop), so the tests exercise
/// the real handler without depending on timing.
void stop_point(const std::string& what);

}  // namespace ntks::util
