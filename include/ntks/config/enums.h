#pragma once
// YAML names of the config enumerations, in enumerator order.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "ntks/config/config.h"

namespace ntks::config {

template <class E>
struct EnumNames;

#define NTKS_ENUM_NAMES(E, ...)                                        \
  template <>                                                          \
  struct EnumNames<E> {                                                \
    static constexpr std::array names{__VA_ARGS__};                    \
  };

using namespace std::string_view_literals;
NTKS_ENUM_NAMES(DType, "bf16"sv, "fp16"sv, "fp32"sv)
NTKS_ENUM_NAMES(Device, "auto"sv, "cpu"sv, "cuda"sv)
NTKS_ENUM_NAMES(Template, "auto"sv, "llama3"sv, "qwen3"sv, "plain"sv)
NTKS_ENUM_NAMES(RecordFormat, "auto"sv, "alpaca"sv, "messages"sv, "prompt_response"sv, "tokens"sv)
NTKS_ENUM_NAMES(OnError, "fail"sv, "skip"sv)
NTKS_ENUM_NAMES(Overlong, "truncate"sv, "drop"sv)
NTKS_ENUM_NAMES(Schedule, "cosine"sv, "linear"sv, "constant"sv)
NTKS_ENUM_NAMES(IndexKind, "flat"sv, "ivf"sv)
NTKS_ENUM_NAMES(GradOutput, "logit_sum"sv, "log_likelihood"sv)
NTKS_ENUM_NAMES(Projection, "rademacher"sv, "sparse"sv)
NTKS_ENUM_NAMES(ScoreRule, "ntk"sv, "lda"sv)
NTKS_ENUM_NAMES(SelectMethod, "ntk"sv, "knn"sv, "random"sv, "less"sv, "dsir"sv, "tsds"sv)
NTKS_ENUM_NAMES(DsirResampleMode, "gumbel"sv, "top_k"sv)
NTKS_ENUM_NAMES(LessReduce, "max"sv, "mean"sv)
NTKS_ENUM_NAMES(StoreDType, "fp32"sv, "fp16"sv)
#undef NTKS_ENUM_NAMES

template <class E>
std::string_view to_string(E e) {
  return EnumNames<E>::names.at(static_cast<std::size_t>(e));
}

template <class E>
std::optional<E> parse_enum(std::string_view s) {
  const auto& names = EnumNames<E>::names;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

/// "bf16|fp16|fp32": the allowed values, for messages and --help.
template <class E>
std::string enum_choices() {
  std::string out;
  for (auto n : EnumNames<E>::names) {
    if (!out.empty()) out += '|';
    out += n;
  }
  return out;
}

}  // namespace ntks::config
