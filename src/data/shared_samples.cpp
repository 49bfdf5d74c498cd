#include "ntks/data/shared_samples.h"

#include <cstring>

#include "ntks/log/log.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"

namespace ntks::data {
namespace {

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
T get(const std::string& in, size_t& at) {
  NTKS_CHECK(at + sizeof(T) <= in.size(), "truncated sample buffer");
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  at += sizeof(T);
  return v;
}

}  // namespace

std::string pack_samples(const std::vector<Sample>& samples) {
  std::string out;
  put<uint64_t>(out, samples.size());
  for (const auto& s : samples) {
    put(out, s.index);
    put<uint64_t>(out, s.ids.size());
    out.append(reinterpret_cast<const char*>(s.ids.data()), s.ids.size() * sizeof(int32_t));
    out.append(reinterpret_cast<const char*>(s.response_mask.data()), s.response_mask.size());
  }
  return out;
}

std::vector<Sample> unpack_samples(const std::string& in) {
  size_t at = 0;
  std::vector<Sample> samples(get<uint64_t>(in, at));
  for (auto& s : samples) {
    s.index = get<int64_t>(in, at);
    const auto n = get<uint64_t>(in, at);
    NTKS_CHECK(at + n * (sizeof(int32_t) + 1) <= in.size(), "truncated sample buffer");
    s.ids.resize(n);
    std::memcpy(s.ids.data(), in.data() + at, n * sizeof(int32_t));
    at += n * sizeof(int32_t);
    s.response_mask.assign(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return samples;
}

std::vector<Sample> read_samples_shared(const std::vector<std::string>& files, const config::Config& cfg,
                                        const SharedRead& how, dist::Communicator& comm, ReadStats* stats) {
  IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const CorpusIndex index = CorpusIndex::open_shared(files, io, comm);
  std::string bytes;
  if (comm.is_root()) {
    const auto tok = tokenizer::Tokenizer::load(how.tokenizer);
    std::unique_ptr<SkipLog> skip_log;
    if (!how.skip_log.empty()) skip_log = std::make_unique<SkipLog>(how.skip_log);
    SampleReader reader(index, cfg, tok, skip_log.get());
    std::vector<Sample> samples;
    const auto take = [&](Sample&& s) {
      for (int32_t id : s.ids)
        if (id < 0 || id >= how.vocab)
          throw InputError(fmt::format("{}: token id {} from {} is outside the model's vocabulary of {} (model.path {})",
                                       index.where(s.index), id, how.tokenizer, how.vocab, cfg.model.path));
      samples.push_back(std::move(s));
    };
    if (how.only.empty()) {
      reader.read(Range{0, index.size()}, take);
    } else {
      reader.read(how.only, take);
    }
    if (skip_log) skip_log->close();
    const ReadStats& st = reader.stats();
    log::info("{}: {}", how.label, st.summary());
    if (st.skipped + st.dropped > 0)
      log::warn("{}: {} line(s) skipped or dropped{}", how.label, st.skipped + st.dropped,
                skip_log ? ": see " + skip_log->path() : "");
    if (stats != nullptr) *stats = st;
    if (how.on_root) how.on_root(index, tok, samples);
    bytes = pack_samples(samples);
  }
  comm.broadcast_bytes(bytes, 0);
  return unpack_samples(bytes);
}

}  // namespace ntks::data
