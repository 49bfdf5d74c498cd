#pragma once
// MPI backend, visible to the other dist sources (the NCCL backend uses it
// for bootstrap and host data). Not a public header: it includes mpi.h.

// Plain C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "ntks/dist/communicator.h"

namespace ntks::dist {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator();
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string name() const override { return "mpi"; }

  void barrier() override;
  void broadcast(at::Tensor& t, int root) override;
  void allreduce(at::Tensor& t, ReduceOp op) override;
  at::Tensor gatherv(const at::Tensor& t, int root) override;
  void broadcast_bytes(std::string& bytes, int root) override;
  std::vector<std::string> gatherv_bytes(const std::string& bytes, int root) override;
  [[noreturn]] void abort(int exit_code) override;

  /// Throws DistError on every rank unless all ranks pass the same values.
  void check_same(const std::vector<long long>& values, const std::string& what);
  /// Gathers one int64 per rank to every rank.
  std::vector<long long> allgather(long long value);
  MPI_Comm comm() const { return comm_; }

 private:
  void check_root(int root) const;

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool finalize_ = false;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

/// Throws DistError "<op>: <MPI error text>" unless rc is MPI_SUCCESS.
void mpi_check(int rc, const char* op);

}  // namespace ntks::dist
