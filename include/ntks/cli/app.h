#pragma once
// Entry points of the ntk-select binary. main() only forwards here, so the
// tests can drive the same code.

#include <functional>

namespace ntks::dist {
class Communicator;
}

namespace ntks::cli {

/// Parses the command line, runs the subcommand, returns the exit code.
int main_entry(int argc, char** argv);

/// Runs `body`, turning an escaping exception into one error message and an
/// exit code: 2 for usage and config errors, util::kStopExitCode (75) for a
/// stop requested by SIGTERM/SIGINT (util/stop.h), 1 otherwise. With a communicator
/// of more than one rank, the job is ended on every rank (MPI_Abort) so no
/// rank is left waiting in a collective. Errors that every rank hits alike
/// (usage, config) are printed by rank 0 only.
int run_guarded(dist::Communicator* comm, const std::function<int()>& body);

}  // namespace ntks::cli
