// Command-line front end: global flags, subcommand dispatch, common options
// (config, overrides, logging, backend) and the guarded run.

#include <iostream>

#include "blas_check.h"
#include "build_info.h"
#include "command.h"
#include "ntks/build_config.h"
#include "ntks/cli/app.h"
#include "ntks/config/load.h"
#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/model/gpu.h"
#include "ntks/pipeline/stage.h"
#include "ntks/util/allocator.h"
#include "ntks/util/blas_kernels.h"
#include "ntks/util/error.h"
#include "ntks/util/stop.h"
#include "ntks/util/strings.h"
#include "threads.h"

namespace ntks::cli {
namespace {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      config_command(),
      selfcheck_command(),
      make_model_command(),
      forward_command(),
      bench_command(),
      tokenize_command(),
      train_tokenizer_command(),
      index_command(),
      check_data_command(),
      embed_command(),
      grads_command(),
      warmup_command(),
      preselect_command(),
      score_command(),
      select_command(),
      run_command(),
      demo_data_command(),
      pretrain_data_command(),
      pretrain_command(),
      finetune_command(),
      evaluate_command(),
      diagnose_command(),
      report_command(),
  };
  return all;
}

void print_usage(std::ostream& out) {
  out << "ntk-select " NTKS_VERSION
         " - select the general-corpus samples whose training dynamics (neural tangent\n"
         "kernel of LoRA gradients) align best with a small domain set (arXiv 2511.07380).\n\n"
         "Usage: ntk-select COMMAND [options]      (under mpirun/srun: one process per rank)\n"
         "       ntk-select COMMAND --help         options of one command\n\n"
         "Commands:\n";
  for (const auto& c : commands()) out << fmt::format("  {:<16} {}\n", c.name, c.summary);
  out << "\nGlobal flags:\n"
         "  --help         this text\n"
         "  --version      the version\n"
         "  --build-info   versions of LibTorch, Faiss, MPI, HDF5, the BLAS kernels, which GPU paths are built\n"
         "  --blas-info    the CPU, the OpenBLAS kernels in use and where they came from, the GEMM speed\n"
         "\nExit status: 0 done; 1 error; 2 usage or config error; 75 stopped by SIGTERM/SIGINT\n"
         "after committing the last whole block (embed, grads): the same command resumes there.\n";
}

po::options_description common_options() {
  po::options_description o("Common options");
  o.add_options()
      ("help,h", "show the options of this command")
      ("config,c", po::value<std::string>()->default_value(""),
       "YAML config file; keys not in it keep their defaults (see `ntk-select config --dump`)")
      ("set,s", po::value<std::vector<std::string>>()->composing(),
       "override one key, repeatable, applied after --config: --set grads.dim=4096 "
       "--set data.candidates=[a.jsonl,b.jsonl]")
      ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn, error or off")
      ("progress-interval", po::value<double>()->default_value(30),
       "seconds between progress lines when stderr is not a terminal (Slurm logs); "
       "a terminal gets a live line instead")
      ("dist", po::value<std::string>()->default_value("auto"),
       "auto: MPI when started by mpirun/srun, else one process; in an NCCL build, stages on GPUs "
       "send collectives on CUDA tensors through NCCL. mpi: MPI only (no NCCL). nccl: as auto, "
       "but an error in a build without NCCL. local: one process");
  return o;
}

dist::Backend parse_backend(const std::string& s) {
  if (s == "auto" || s == "nccl") return dist::Backend::auto_;
  if (s == "mpi") return dist::Backend::mpi;
  if (s == "local") return dist::Backend::local;
  throw UsageError(fmt::format("--dist '{}': expected auto, mpi, nccl or local", s));
}

/// Parses the options; --help is honoured before required options are checked.
po::variables_map parse(const Command& cmd, const po::options_description& all, int argc, char** argv) {
  po::variables_map vm;
  try {
    po::positional_options_description positional;
    if (!cmd.positional.empty()) positional.add(cmd.positional.c_str(), -1);
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) return vm;
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} {}: {} (see `ntk-select {} --help`)", "ntk-select", cmd.name, e.what(),
                                 cmd.name));
  }
  return vm;
}

int run_command(const Command& cmd, int argc, char** argv) {
  po::options_description own(cmd.name + " options");
  if (cmd.options) cmd.options(own);
  po::options_description all;
  all.add(own).add(common_options());
  po::variables_map vm = parse(cmd, all, argc, argv);
  if (vm.count("help")) {
    std::cout << "Usage: ntk-select " << cmd.name << " [options]\n\n" << cmd.description << "\n\n" << all << "\n";
    return 0;
  }
  log::set_level(log::parse_level(vm["log-level"].as<std::string>()));
  log::set_default_progress_interval(vm["progress-interval"].as<double>());
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  config::Config cfg = config::load(vm["config"].as<std::string>(), sets);

  const std::string backend = vm["dist"].as<std::string>();
  std::unique_ptr<dist::Communicator> comm = dist::create(parse_backend(backend));
  log::set_rank(comm->rank(), comm->size());
  // The model stages of an NCCL build on GPUs: collectives on CUDA tensors
  // (the warm-up's gradient allreduce, domain sums) go through NCCL, the rest
  // through MPI, which also bootstraps it. Errors end every rank (guard).
  int device = -1;
  const bool stage = pipeline::is_stage(cmd.name) || cmd.name == "run";
  if (const int code = run_guarded(comm.get(), [&] {
        if (backend == "nccl" && !dist::nccl_available())
          throw UsageError("--dist nccl: this build has no NCCL (cmake -DNTKS_WITH_NCCL=ON; see --build-info)");
        if (dist::nccl_available() && comm->name() == "mpi" && stage && backend != "mpi")
          device = model::cuda_device_index(cfg.model.device, comm->local_rank());
        return 0;
      }))
    return code;
  if (device >= 0) comm = dist::make_nccl(std::move(comm), device);
  log::debug("communicator: {} ({} ranks)", comm->name(), comm->size());
  util::install_stop_handlers();  // after MPI_Init, so that MPI's own handlers cannot replace them
  configure_threads(*comm);
  if (const int code = run_guarded(comm.get(), [&] {
        if (cmd.computes) warn_about_blas_kernels(*comm);
        return 0;
      }))
    return code;
  Context ctx{vm, *comm, cfg};
  // Errors from here on end every rank through the communicator.
  return run_guarded(comm.get(), [&] {
    log::StageScope stage(cmd.name);
    return run_body(cmd, ctx);  // stages write their manifest around the body
  });
}

}  // namespace

int main_entry(int argc, char** argv) {
  // First: a process on OpenBLAS's fallback kernels executes itself again on
  // the right ones, before MPI or any thread has started.
  util::prefer_right_blas_kernels(argv);
  tune_malloc_for_tensors();
  // Before MPI is up, take rank/size from the launcher so that an error every
  // rank makes alike (a typo on the command line) is printed once.
  dist::LauncherRank lr = dist::launcher_rank();
  log::set_rank(lr.rank, lr.size);
  return run_guarded(nullptr, [&] {
    if (argc < 2) {
      print_usage(std::cerr);
      throw UsageError("no command given");
    }
    std::string first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
      print_usage(std::cout);
      return 0;
    }
    if (first == "--version") {
      std::cout << "ntk-select " NTKS_VERSION "\n";
      return 0;
    }
    if (first == "--build-info") {
      std::cout << build_info_text();
      return 0;
    }
    if (first == "--blas-info") {
      configure_threads();
      std::cout << blas_info_text();
      return 0;
    }
    std::vector<std::string> names;
    for (const auto& c : commands()) {
      if (c.name == first) return run_command(c, argc - 1, argv + 1);
      names.push_back(c.name);
    }
    throw UsageError(fmt::format("unknown command '{}'; did you mean '{}'? (`ntk-select --help` lists them)", first,
                                 nearest(first, names)));
  });
}

}  // namespace ntks::cli
