#pragma once
// A subcommand of ntk-select: its name, one-line summary, options and body.
// The list of subcommands is in app.cpp; each lives in its own cmd_*.cpp.

#include <boost/program_options.hpp>

#include <functional>
#include <memory>
#include <string>

#include "ntks/config/config.h"
#include "ntks/dist/communicator.h"

namespace ntks::cli {

namespace po = boost::program_options;

/// What a subcommand body gets: its parsed options, the communicator and the
/// resolved config (defaults < --config file < --set).
struct Context {
  const po::variables_map& args;
  dist::Communicator& comm;
  const config::Config& cfg;
};

struct Command {
  std::string name;
  std::string summary;
  /// Longer text printed by `ntk-select NAME --help` above the options.
  std::string description;
  /// Name of one of its options that takes the positional arguments (empty: none).
  std::string positional;
  /// Adds the subcommand's own options (the common ones are added for it).
  std::function<void(po::options_description&)> options;
  /// Does GEMM-heavy work (a model, Faiss): warned at start when the BLAS
  /// kernels are slower than the CPU allows (blas_check.h).
  bool computes = false;
  /// Runs it; returns the exit code.
  std::function<int(Context&)> run;
};

Command config_command();
Command selfcheck_command();
Command make_model_command();
Command forward_command();
Command bench_command();
Command tokenize_command();
Command train_tokenizer_command();
Command index_command();
Command check_data_command();
Command embed_command();
Command grads_command();
Command warmup_command();
Command preselect_command();
Command score_command();
Command select_command();
Command run_command();
Command demo_data_command();
Command pretrain_data_command();
Command pretrain_command();
Command finetune_command();
Command evaluate_command();
Command diagnose_command();
Command report_command();

/// Runs a command's body; a pipeline stage (warmup ... select) runs between
/// its manifest steps (pipeline::run_stage). Defined in cmd_run.cpp.
int run_body(const Command& cmd, Context& ctx);

}  // namespace ntks::cli
