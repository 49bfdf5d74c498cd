// NCCL backend (built with NTKS_WITH_NCCL): CUDA tensors go through NCCL on
// torch's current stream, so they are ordered with the surrounding kernels;
// CPU tensors, byte buffers, barriers and the shape checks go through the MPI
// communicator it wraps, which also distributes the NCCL unique id.

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <torch/torch.h>

#include <cstring>

#include "mpi_communicator.h"
#include "ntks/util/error.h"

namespace ntks::dist {
namespace {

void nccl_check(ncclResult_t rc, const char* op) {
  if (rc != ncclSuccess) throw DistError(fmt::format("{} failed: {}", op, ncclGetErrorString(rc)));
}

ncclDataType_t nccl_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kChar: return ncclInt8;
    case at::kByte: return ncclUint8;
    default: throw DistError(fmt::format("NCCL does not support dtype {}", c10::toString(t)));
  }
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<MpiCommunicator> mpi, int device) : mpi_(std::move(mpi)), device_(device) {
    ncclUniqueId id;
    if (mpi_->rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
    mpi_->broadcast_bytes(bytes, 0);
    std::memcpy(&id, bytes.data(), sizeof id);
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    nccl_check(ncclCommInitRank(&comm_, mpi_->size(), id, mpi_->rank()), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  int local_rank() const override { return mpi_->local_rank(); }
  int local_size() const override { return mpi_->local_size(); }
  std::string name() const override { return "nccl+mpi"; }
  void barrier() override { mpi_->barrier(); }

  void broadcast(at::Tensor& t, int root) override {
    if (!t.defined() || !t.is_cuda()) return mpi_->broadcast(t, root);
    mpi_->check_same({t.numel(), static_cast<long long>(t.scalar_type()), root}, "broadcast");
    at::Tensor work = t.contiguous();
    nccl_check(ncclBroadcast(work.data_ptr(), work.data_ptr(), work.nbytes(), ncclUint8, root, comm_, stream(t)),
               "ncclBroadcast");
    if (!work.is_same(t)) t.copy_(work);
  }

  void allreduce(at::Tensor& t, ReduceOp op) override {
    if (!t.defined() || !t.is_cuda()) return mpi_->allreduce(t, op);
    mpi_->check_same({t.numel(), static_cast<long long>(t.scalar_type()), static_cast<long long>(op)}, "allreduce");
    if (op == ReduceOp::mean && !t.is_floating_point())
      throw DistError(fmt::format("allreduce mean needs a floating tensor, got {}", c10::toString(t.scalar_type())));
    // Reduce half types in fp32, as the MPI backend does, so results agree.
    at::Tensor work = t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16
                          ? t.to(at::kFloat).contiguous()
                          : t.contiguous();
    ncclRedOp_t nop = op == ReduceOp::max ? ncclMax : op == ReduceOp::mean ? ncclAvg : ncclSum;
    nccl_check(ncclAllReduce(work.data_ptr(), work.data_ptr(), work.numel(), nccl_type(work.scalar_type()), nop, comm_,
                             stream(t)),
               "ncclAllReduce");
    if (!work.is_same(t)) t.copy_(work);
  }

  at::Tensor gatherv(const at::Tensor& t, int root) override {
    if (!t.defined() || !t.is_cuda()) return mpi_->gatherv(t, root);
    if (t.dim() < 1) throw DistError("gatherv needs a tensor with at least one dimension");
    std::vector<long long> shape(t.sizes().begin() + 1, t.sizes().end());
    shape.push_back(static_cast<long long>(t.scalar_type()));
    shape.push_back(root);
    mpi_->check_same(shape, "gatherv (dim 0 may differ, the rest must match)");
    std::vector<long long> rows = mpi_->allgather(t.size(0));
    long long row_bytes = 1;
    for (int64_t d = 1; d < t.dim(); ++d) row_bytes *= t.size(d);
    row_bytes *= static_cast<long long>(t.element_size());
    long long total = 0;
    for (long long r : rows) total += r;

    at::Tensor send = t.contiguous();
    at::Tensor out;
    std::vector<int64_t> out_shape(t.sizes().begin(), t.sizes().end());
    out_shape[0] = total;
    if (rank() == root) out = at::empty(out_shape, t.options());
    cudaStream_t s = stream(t);
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    if (rank() == root) {
      auto* base = static_cast<char*>(out.data_ptr());
      long long at_row = 0;
      for (int r = 0; r < size(); ++r) {
        size_t bytes = static_cast<size_t>(rows[r] * row_bytes);
        char* dst = base + at_row * row_bytes;
        if (bytes > 0 && r == root) {
          cudaMemcpyAsync(dst, send.data_ptr(), bytes, cudaMemcpyDeviceToDevice, s);
        } else if (bytes > 0) {
          nccl_check(ncclRecv(dst, bytes, ncclUint8, r, comm_, s), "ncclRecv");
        }
        at_row += rows[r];
      }
    } else if (send.numel() > 0) {
      nccl_check(ncclSend(send.data_ptr(), send.nbytes(), ncclUint8, root, comm_, s), "ncclSend");
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    return out;
  }

  void broadcast_bytes(std::string& bytes, int root) override { mpi_->broadcast_bytes(bytes, root); }
  std::vector<std::string> gatherv_bytes(const std::string& bytes, int root) override {
    return mpi_->gatherv_bytes(bytes, root);
  }

  [[noreturn]] void abort(int exit_code) override {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    mpi_->abort(exit_code);
  }

 private:
  cudaStream_t stream(const at::Tensor& t) const {
    if (t.get_device() != device_)
      throw DistError(fmt::format("tensor on cuda:{} but this rank's NCCL communicator is on cuda:{}",
                                  t.get_device(), device_));
    return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
  }

  std::unique_ptr<MpiCommunicator> mpi_;
  int device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_available() { return true; }

std::string nccl_version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return fmt::format("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100);
}

std::unique_ptr<Communicator> make_nccl(std::unique_ptr<Communicator> host, int cuda_device) {
  auto* mpi = dynamic_cast<MpiCommunicator*>(host.get());
  if (mpi == nullptr)
    throw DistError(fmt::format("the NCCL backend needs an MPI communicator to bootstrap, got '{}'", host->name()));
  host.release();
  return std::make_unique<NcclCommunicator>(std::unique_ptr<MpiCommunicator>(mpi), cuda_device);
}

}  // namespace ntks::dist
