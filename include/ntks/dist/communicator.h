#pragma once
// The one communicator interface (STYLE practice 1).
//
// Every stage talks to other ranks only through this: rank/size, barrier,
// broadcast, allreduce and gatherv on tensors and on byte buffers. Backends:
//   local  one process; every collective is the identity on its input
//   mpi    Open MPI; CPU tensors directly, CUDA tensors staged through host
//   nccl   CUDA tensors through NCCL, everything else through its MPI peer
//          (only in builds with NTKS_WITH_NCCL)
// No MPI, NCCL or torch header is included here: tensors are passed as
// at::Tensor references, declared below.
//
// Preconditions that every backend checks (a mismatch throws DistError on
// every rank, never hangs or reads garbage): broadcast/allreduce tensors have
// the same dtype and element count on all ranks; gatherv tensors have the
// same dtype and trailing shape (dim 0 may differ, including 0 rows).

#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ntks::dist {

enum class ReduceOp { sum, mean, max };
enum class Backend { auto_, mpi, local };

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Rank among the processes on this node (picks the GPU); local_size() of them.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  /// "local", "mpi" or "nccl+mpi".
  virtual std::string name() const = 0;
  bool is_root() const { return rank() == 0; }

  virtual void barrier() = 0;

  /// In place: every rank ends with root's values.
  virtual void broadcast(at::Tensor& t, int root) = 0;
  /// In place, element-wise over ranks. mean is for floating dtypes only;
  /// fp16/bf16 are reduced in fp32.
  virtual void allreduce(at::Tensor& t, ReduceOp op) = 0;
  /// Rank-ordered concatenation along dim 0 on `root` (same device as the
  /// input); an undefined tensor on other ranks.
  virtual at::Tensor gatherv(const at::Tensor& t, int root) = 0;

  virtual void broadcast_bytes(std::string& bytes, int root) = 0;
  /// Every rank's buffer, in rank order, on `root`; empty elsewhere.
  virtual std::vector<std::string> gatherv_bytes(const std::string& bytes, int root) = 0;

  /// Ends every rank of the job now (MPI_Abort); used by the top-level guard.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

/// Rank and size as the launcher's environment tells them, before MPI is
/// initialised (0/1 when not launched by mpirun/srun). Used to print an error
/// that every rank hits alike only once.
struct LauncherRank {
  int rank = 0;
  int size = 1;
};
LauncherRank launcher_rank();

/// True when this process was started by mpirun/mpiexec or srun with MPI
/// (the launcher's environment variables are present).
bool launched_by_mpi_launcher();

/// auto: MPI when launched by mpirun/srun, otherwise local. Once the device is
/// chosen, a CUDA run of an NCCL build wraps the result with make_nccl().
std::unique_ptr<Communicator> create(Backend backend);

std::unique_ptr<Communicator> make_local();
/// Initialises MPI (MPI_THREAD_FUNNELED) unless already done; finalises it in
/// the destructor if it initialised it.
std::unique_ptr<Communicator> make_mpi();
/// Wraps `host` (an MPI communicator, used for bootstrap and non-CUDA data).
/// Throws DistError in builds without NCCL.
std::unique_ptr<Communicator> make_nccl(std::unique_ptr<Communicator> host, int cuda_device);
/// Whether this build has the NCCL backend, and its version ("2.28.3"; empty without).
bool nccl_available();
std::string nccl_version();

/// Text of the MPI library version ("Open MPI v4.1.4, ...").
std::string mpi_library_version();

}  // namespace ntks::dist
