#include "ntks/model/weights.h"

#include "ntks/util/error.h"

namespace ntks::model {

at::ScalarType torch_dtype(StDType t) {
  switch (t) {
    case StDType::F32: return at::kFloat;
    case StDType::F16: return at::kHalf;
    case StDType::BF16: return at::kBFloat16;
    case StDType::F64: return at::kDouble;
    case StDType::I64: return at::kLong;
    case StDType::I32: return at::kInt;
    case StDType::I16: return at::kShort;
    case StDType::I8: return at::kChar;
    case StDType::U8: return at::kByte;
    case StDType::BOOL: return at::kBool;
  }
  throw InternalError("unknown safetensors dtype");
}

StDType st_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return StDType::F32;
    case at::kHalf: return StDType::F16;
    case at::kBFloat16: return StDType::BF16;
    case at::kDouble: return StDType::F64;
    case at::kLong: return StDType::I64;
    case at::kInt: return StDType::I32;
    case at::kShort: return StDType::I16;
    case at::kChar: return StDType::I8;
    case at::kByte: return StDType::U8;
    case at::kBool: return StDType::BOOL;
    default: throw InternalError(fmt::format("no safetensors dtype for {}", c10::toString(t)));
  }
}

at::Tensor tensor_from_view(const TensorView& view, std::shared_ptr<const void> owner) {
  auto deleter = [owner](void*) mutable { owner.reset(); };
  // from_blob wants a mutable pointer; the tensor is only ever read.
  return torch::from_blob(const_cast<void*>(view.data), view.shape, deleter,
                          torch::TensorOptions().dtype(torch_dtype(view.dtype)));
}

TensorBytes tensor_bytes(const std::string& name, const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  TensorBytes out;
  out.name = name;
  out.dtype = st_dtype(c.scalar_type());
  out.shape.assign(c.sizes().begin(), c.sizes().end());
  out.bytes.assign(static_cast<const char*>(c.data_ptr()), c.nbytes());
  return out;
}

}  // namespace ntks::model
