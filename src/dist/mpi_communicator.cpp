// Open MPI backend. CPU tensors are sent directly; CUDA tensors are staged
// through host memory (the NCCL backend avoids that in CUDA builds).

#include "mpi_communicator.h"

#include <torch/torch.h>

#include <climits>
#include <cstdlib>

#include "ntks/util/error.h"

namespace ntks::dist {
namespace {

// MPI counts are int: larger buffers go in pieces of this many elements.
constexpr long long kMaxChunk = 1LL << 30;

MPI_Datatype mpi_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kShort: return MPI_INT16_T;
    case at::kChar: return MPI_INT8_T;
    case at::kByte: return MPI_UINT8_T;
    default:
      throw DistError(fmt::format("allreduce does not support dtype {}", c10::toString(t)));
  }
}

bool is_half(at::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }

void require_defined(const at::Tensor& t, const char* op) {
  if (!t.defined()) throw DistError(fmt::format("{} on an undefined tensor", op));
}

/// Host, contiguous view of `t` to operate on; `t` itself when it already is.
at::Tensor host_contiguous(const at::Tensor& t) {
  return t.device().is_cpu() ? t.contiguous() : t.to(at::kCPU).contiguous();
}

/// Writes `work` back into `t` unless they are the same storage.
void write_back(at::Tensor& t, const at::Tensor& work) {
  if (!work.is_same(t)) t.copy_(work);
}

/// Shape fingerprint of dims [1, ndim): gatherv inputs must agree on it.
long long trailing_shape_code(const at::Tensor& t) {
  long long code = 1469598103934665603LL;
  for (int64_t d = 1; d < t.dim(); ++d) code = code * 1099511628211LL + t.size(d);
  return code;
}

std::string describe_shape(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

void mpi_check(int rc, const char* op) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw DistError(fmt::format("{} failed: {}", op, std::string(text, static_cast<size_t>(len))));
}

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  mpi_check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    // Only the main thread calls MPI; torch's worker threads never do.
    mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    finalize_ = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  mpi_check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  mpi_check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  MPI_Comm node = MPI_COMM_NULL;
  mpi_check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

MpiCommunicator::~MpiCommunicator() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (finalize_) MPI_Finalize();
}

void MpiCommunicator::check_root(int root) const {
  if (root < 0 || root >= size_)
    throw DistError(fmt::format("root rank {} does not exist in a {}-rank job", root, size_));
}

void MpiCommunicator::barrier() { mpi_check(MPI_Barrier(comm_), "MPI_Barrier"); }

std::vector<long long> MpiCommunicator::allgather(long long value) {
  std::vector<long long> all(static_cast<size_t>(size_));
  mpi_check(MPI_Allgather(&value, 1, MPI_LONG_LONG, all.data(), 1, MPI_LONG_LONG, comm_), "MPI_Allgather");
  return all;
}

void MpiCommunicator::check_same(const std::vector<long long>& values, const std::string& what) {
  // max(v) == -max(-v) on every element iff all ranks passed the same values.
  const size_t n = values.size();
  std::vector<long long> buf(2 * n);
  for (size_t i = 0; i < n; ++i) {
    buf[i] = values[i];
    buf[n + i] = -values[i];
  }
  mpi_check(MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(2 * n), MPI_LONG_LONG, MPI_MAX, comm_),
            "MPI_Allreduce");
  for (size_t i = 0; i < n; ++i)
    if (buf[i] != -buf[n + i])
      throw DistError(fmt::format("{}: ranks disagree (this is rank {}; value {} ranges from {} to {} over ranks)",
                                  what, rank_, i, -buf[n + i], buf[i]));
}

void MpiCommunicator::broadcast(at::Tensor& t, int root) {
  require_defined(t, "broadcast");
  check_root(root);
  check_same({t.numel(), static_cast<long long>(t.scalar_type()), root},
             fmt::format("broadcast of a {} {} tensor", describe_shape(t), c10::toString(t.scalar_type())));
  at::Tensor work = host_contiguous(t);
  auto* data = static_cast<char*>(work.data_ptr());
  long long bytes = static_cast<long long>(work.nbytes());
  for (long long off = 0; off < bytes; off += kMaxChunk)
    mpi_check(MPI_Bcast(data + off, static_cast<int>(std::min(kMaxChunk, bytes - off)), MPI_BYTE, root, comm_),
              "MPI_Bcast");
  write_back(t, work);
}

void MpiCommunicator::allreduce(at::Tensor& t, ReduceOp op) {
  require_defined(t, "allreduce");
  check_same({t.numel(), static_cast<long long>(t.scalar_type()), static_cast<long long>(op)},
             fmt::format("allreduce of a {} {} tensor", describe_shape(t), c10::toString(t.scalar_type())));
  if (op == ReduceOp::mean && !t.is_floating_point())
    throw DistError(fmt::format("allreduce mean needs a floating tensor, got {}", c10::toString(t.scalar_type())));
  at::Tensor work = host_contiguous(t);
  if (is_half(work.scalar_type())) work = work.to(at::kFloat);  // no MPI type; sum in fp32
  MPI_Datatype type = mpi_type(work.scalar_type());
  MPI_Op mpi_op = op == ReduceOp::max ? MPI_MAX : MPI_SUM;
  auto* data = static_cast<char*>(work.data_ptr());
  const long long n = work.numel();
  const size_t elem = work.element_size();
  for (long long off = 0; off < n; off += kMaxChunk)
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, data + off * elem, static_cast<int>(std::min(kMaxChunk, n - off)), type,
                            mpi_op, comm_),
              "MPI_Allreduce");
  if (op == ReduceOp::mean) work.div_(size_);
  write_back(t, work);
}

at::Tensor MpiCommunicator::gatherv(const at::Tensor& t, int root) {
  require_defined(t, "gatherv");
  check_root(root);
  if (t.dim() < 1) throw DistError("gatherv needs a tensor with at least one dimension");
  long long row_elems = 1;
  for (int64_t d = 1; d < t.dim(); ++d) row_elems *= t.size(d);
  check_same({static_cast<long long>(t.scalar_type()), t.dim(), trailing_shape_code(t), root},
             fmt::format("gatherv of {} tensors (dim 0 may differ, the rest must match; this rank has {})",
                         c10::toString(t.scalar_type()), describe_shape(t)));
  std::vector<long long> rows = allgather(t.size(0));
  const long long row_bytes = row_elems * static_cast<long long>(t.element_size());
  long long total = 0;
  for (long long r : rows) total += r;
  if (row_bytes > INT_MAX || total > INT_MAX)
    throw DistError(fmt::format("gatherv of {} rows of {} bytes is beyond MPI's int counts", total, row_bytes));

  std::vector<int64_t> out_shape(t.sizes().begin(), t.sizes().end());
  out_shape[0] = total;
  at::Tensor send = host_contiguous(t);
  at::Tensor out;
  if (rank_ == root) out = at::empty(out_shape, send.options());

  if (row_bytes > 0) {
    MPI_Datatype row_type;
    mpi_check(MPI_Type_contiguous(static_cast<int>(row_bytes), MPI_BYTE, &row_type), "MPI_Type_contiguous");
    MPI_Type_commit(&row_type);
    std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
    for (int r = 0, at_row = 0; r < size_; ++r) {
      counts[r] = static_cast<int>(rows[r]);
      displs[r] = at_row;
      at_row += counts[r];
    }
    int rc = MPI_Gatherv(send.data_ptr(), static_cast<int>(send.size(0)), row_type,
                         rank_ == root ? out.data_ptr() : nullptr, counts.data(), displs.data(), row_type, root,
                         comm_);
    MPI_Type_free(&row_type);
    mpi_check(rc, "MPI_Gatherv");
  }
  if (rank_ != root) return {};
  return t.device().is_cpu() ? out : out.to(t.device());
}

void MpiCommunicator::broadcast_bytes(std::string& bytes, int root) {
  check_root(root);
  unsigned long long n = bytes.size();
  mpi_check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm_), "MPI_Bcast");
  bytes.resize(n);
  for (unsigned long long off = 0; off < n; off += kMaxChunk)
    mpi_check(MPI_Bcast(bytes.data() + off, static_cast<int>(std::min<unsigned long long>(kMaxChunk, n - off)),
                        MPI_BYTE, root, comm_),
              "MPI_Bcast");
}

std::vector<std::string> MpiCommunicator::gatherv_bytes(const std::string& bytes, int root) {
  check_root(root);
  std::vector<long long> lengths = allgather(static_cast<long long>(bytes.size()));
  long long total = 0;
  for (long long l : lengths) total += l;
  if (total > INT_MAX) throw DistError(fmt::format("gatherv_bytes of {} bytes is beyond MPI's int counts", total));
  std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
  for (int r = 0, at = 0; r < size_; ++r) {
    counts[r] = static_cast<int>(lengths[r]);
    displs[r] = at;
    at += counts[r];
  }
  std::string all(rank_ == root ? static_cast<size_t>(total) : 0, '\0');
  mpi_check(MPI_Gatherv(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, all.data(), counts.data(),
                        displs.data(), MPI_BYTE, root, comm_),
            "MPI_Gatherv");
  std::vector<std::string> out;
  if (rank_ != root) return out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(static_cast<size_t>(displs[r]), counts[r]));
  return out;
}

void MpiCommunicator::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort should not return; make sure of it
}

std::unique_ptr<Communicator> make_mpi() { return std::make_unique<MpiCommunicator>(); }

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<size_t>(len));
  s = s.substr(0, s.find_first_of(std::string("\r\n\0", 3)));  // first line; len counts the NUL
  while (!s.empty() && (s.back() == ' ' || s.back() == ',')) s.pop_back();
  return s;
}

}  // namespace ntks::dist
