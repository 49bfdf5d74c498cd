// run_feature_job(): the resumable group/block loop shared by embed and grads.

#include "ntks/features/feature_job.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "ntks/features/forecast.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/util/error.h"
#include "ntks/util/stop.h"

namespace ntks::features {
namespace {

namespace fs = std::filesystem;

// The metadata of a complete file at `path`, or "" when it cannot be read.
std::string complete_metadata(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "";
  try {
    return store::FeatureReader(path).metadata_json();
  } catch (const InputError& e) {
    log::warn("{}: {}; computing it again", path, e.what());
    return "";
  }
}

// A writer for the job: the partial file of an interrupted run with the same
// metadata, or a new one.
store::FeatureWriter open_writer(const FeatureJob& job) {
  std::error_code ec;
  if (fs::exists(job.out_path + ".partial", ec)) {
    try {
      store::FeatureWriter w = store::FeatureWriter::resume(job.out_path);
      if (w.spec().metadata_json == job.spec.metadata_json && w.spec().dim == job.spec.dim &&
          w.spec().dtype == job.spec.dtype)
        return w;
      log::warn("{}.partial was written with other inputs or settings: starting it again", job.out_path);
    } catch (const InputError& e) {
      log::warn("{}; starting it again", e.what());
    }
  }
  return store::FeatureWriter::create(job.out_path, job.spec);
}

// Test hook for the resume tests: with NTKS_TEST_KILL_AFTER_BLOCKS=n the
// process kills itself (SIGKILL: no destructor, no flush) after committing n
// blocks, which is what a node failure or an OOM kill does.
void kill_point() {
  static const char* env = std::getenv("NTKS_TEST_KILL_AFTER_BLOCKS");
  static long left = env ? std::atol(env) : -1;
  if (left > 0 && --left == 0) std::raise(SIGKILL);
}

// The rows of one group's samples, in their order: those the earlier run
// has (job.reuse) copied, the others computed together in one call.
at::Tensor group_rows_of(const FeatureJob& job, const std::vector<data::Sample>& samples, const ComputeRows& compute,
                      int64_t& reused) {
  const auto n = static_cast<int64_t>(samples.size());
  reused = 0;
  if (n == 0) return at::Tensor();
  const auto checked = [&](at::Tensor rows, int64_t want) {
    rows = rows.contiguous();
    NTKS_CHECK(rows.dim() == 2 && rows.size(0) == want && rows.size(1) == job.spec.dim &&
                   rows.scalar_type() == at::kFloat && rows.is_cpu(),
               "{}: computed rows do not match {} samples x dim {}", job.out_path, want, job.spec.dim);
    return rows;
  };
  if (job.reuse == nullptr || job.reuse->empty()) return checked(compute(samples), n);
  at::Tensor rows = at::empty({n, job.spec.dim}, at::kFloat);
  std::vector<uint64_t> keys;
  for (const data::Sample& s : samples) keys.push_back(s.content_hash);
  const std::vector<bool> found = job.reuse->find(keys, rows.data_ptr<float>());
  std::vector<data::Sample> todo;
  std::vector<int64_t> where;
  for (int64_t i = 0; i < n; ++i) {
    if (found[static_cast<size_t>(i)]) continue;
    todo.push_back(samples[static_cast<size_t>(i)]);
    where.push_back(i);
  }
  reused = n - static_cast<int64_t>(todo.size());
  if (!todo.empty())
    rows.index_copy_(0, at::tensor(where, at::kLong), checked(compute(todo), static_cast<int64_t>(todo.size())));
  return rows;
}

// After the first committed block that computed rows: its rate, and what it forecasts
// for this job and for the whole list on every shard at that rate.
void first_block_forecast(const FeatureJob& job, int64_t computed, double seconds, int64_t left) {
  if (job.whole_records <= 0 || computed <= 0 || seconds <= 0) return;
  StageForecast f;
  f.stage = job.stage;
  f.work = job.label;
  f.samples = job.whole_records;
  f.rate = static_cast<double>(computed) / seconds;
  f.ranks = job.shards;
  f.basis = fmt::format("first block: {} records in {:.2f}s", computed, seconds);
  const std::string line =
      fmt::format("{}: first block {:.3g} records/s; forecast {} for this shard's {} records left, {} for all {} "
                  "records on {} shard(s)",
                  job.label, f.rate, log::format_duration(static_cast<double>(left) / f.rate), left,
                  log::format_duration(f.seconds()), f.samples, f.ranks);
  if (job.first_position != 0) {
    log::debug("{}", line);
    return;
  }
  log::info("{}", line);
  if (!job.forecast_path.empty()) write_forecast_json(job.forecast_path, {f}, "first block");
}

}  // namespace

int64_t group_rows(int64_t n, int64_t block_rows, int64_t min_rows, int64_t configured) {
  NTKS_CHECK(block_rows > 0 && n >= 0, "group of {} entries in blocks of {}", n, block_rows);
  if (configured > 0) {
    NTKS_CHECK(block_rows % configured == 0, "group_rows {} does not divide block_rows {}", configured, block_rows);
    return configured;
  }
  const int64_t floor = std::max(kMinGroupRows, min_rows);
  int64_t g = block_rows;
  while (g % 2 == 0 && g / 2 >= floor && (n + g - 1) / g < kGroupsPerList) g /= 2;
  return g;
}

data::Range group_aligned_shard(int64_t n, int64_t group_rows, int shard, int num_shards,
                                const std::function<int64_t(int64_t)>& weight) {
  NTKS_CHECK(group_rows > 0, "group_rows {} must be positive", group_rows);
  data::shard_range(n, shard, num_shards);  // UsageError for a bad shard or count
  const int64_t groups = (n + group_rows - 1) / group_rows;
  // cum[g]: weight of groups [0, g). Summed in full on every rank: a few
  // nanoseconds a record, and no rank needs another's view.
  std::vector<int64_t> cum(static_cast<size_t>(groups) + 1, 0);
  for (int64_t b = 0; b < groups; ++b) {
    int64_t w = 0;
    for (int64_t p = b * group_rows; p < std::min(n, (b + 1) * group_rows); ++p) {
      const int64_t x = weight(p);
      NTKS_CHECK(x >= 0, "weight {} of entry {} is negative", x, p);
      w += x;
    }
    cum[static_cast<size_t>(b) + 1] = cum[static_cast<size_t>(b)] + w;
  }
  if (cum.back() == 0)
    for (int64_t b = 0; b <= groups; ++b) cum[static_cast<size_t>(b)] = std::min(n, b * group_rows);
  // Boundary k: the group boundary nearest to k/num_shards of the total,
  // compared exactly as cum[b] * num_shards against total * k.
  const auto boundary = [&](int k) -> int64_t {
    if (k == 0) return 0;
    if (k == num_shards) return groups;
    const auto scaled = [&](int64_t b) { return static_cast<__int128>(cum[static_cast<size_t>(b)]) * num_shards; };
    const __int128 target = static_cast<__int128>(cum.back()) * k;
    const int64_t hi = std::partition_point(cum.begin(), cum.end(),
                                            [&](int64_t c) { return static_cast<__int128>(c) * num_shards < target; }) -
                       cum.begin();
    if (hi == 0) return 0;
    return target - scaled(hi - 1) <= scaled(hi) - target ? hi - 1 : hi;
  };
  const int64_t first = boundary(shard), last = boundary(shard + 1);
  return {std::min(n, first * group_rows), std::min(n, last * group_rows)};
}

data::Range group_aligned_shard(int64_t n, int64_t group_rows, int shard, int num_shards) {
  return group_aligned_shard(n, group_rows, shard, num_shards, [](int64_t) { return int64_t{1}; });
}

int64_t record_cost(const data::CorpusIndex& index, int64_t global) {
  return index.record_bytes(global) + kRecordOverheadBytes;
}

FeatureJobResult run_feature_job(const FeatureJob& job, const data::CorpusIndex& index, const config::Config& cfg,
                                 const tokenizer::Tokenizer& tok, const ComputeRows& compute) {
  FeatureJobResult result;
  NTKS_CHECK(std::is_sorted(job.records.begin(), job.records.end()), "{}: job records must be ascending",
             job.out_path);
  if (complete_metadata(job.out_path) == job.spec.metadata_json) {
    const store::FeatureReader done(job.out_path);
    result.rows = done.rows();
    result.reused_rows = done.reused_rows();
    result.reused = true;
    log::info("{}: complete with the same inputs ({} rows), kept", job.out_path, result.rows);
    return result;
  }
  fs::create_directories(fs::path(job.out_path).parent_path());
  store::FeatureWriter writer = open_writer(job);

  NTKS_CHECK(job.group_rows > 0 && job.block_rows % job.group_rows == 0,
             "{}: group_rows {} must divide block_rows {}", job.out_path, job.group_rows, job.block_rows);
  // Position p (in the caller's whole list) of local index i is first_position + i.
  const auto next_multiple = [&](int64_t i, int64_t unit) {
    return ((job.first_position + i) / unit + 1) * unit - job.first_position;
  };
  // Where to continue: after the group that holds the last committed row
  // (commits happen at group ends, so that group was done in full).
  const auto n = static_cast<int64_t>(job.records.size());
  int64_t start = 0;
  if (writer.rows() > 0) {
    const auto it = std::find(job.records.begin(), job.records.end(), writer.last_index());
    if (it == job.records.end()) {
      log::warn("{}.partial ends with record {}, which this job does not hold: starting it again", job.out_path,
                writer.last_index());
      writer = store::FeatureWriter::create(job.out_path, job.spec);
    } else {
      start = std::min(n, next_multiple(it - job.records.begin(), job.group_rows));
      result.resumed_rows = writer.rows();
      log::info("{}: resuming after {} rows ({} of {} records done)", job.out_path, writer.rows(), start, n);
    }
  }
  const int64_t keep_below = start < n ? job.records[static_cast<size_t>(start)] : INT64_MAX;
  auto skip_log = data::SkipLog::resume(job.skip_path, start == 0 ? INT64_MIN : keep_below);

  data::SampleReader reader(index, cfg, tok, skip_log.get());
  log::ProgressOptions progress_options;
  progress_options.unit = "records";
  progress_options.rank0_only = false;
  log::Progress progress(job.label, n - start, progress_options);
  // SIGTERM/SIGINT from here on: finish the group in hand, commit what is
  // pending, then stop (exit status 75); a rerun resumes after it (util/stop.h).
  util::StopScope stoppable;
  bool forecast_done = false;
  // The rows of the block in hand, committed together.
  struct Pending {
    std::vector<at::Tensor> rows;
    std::vector<uint64_t> keys;
    std::vector<std::string> ids;
    std::vector<int64_t> indices, tokens;
    int64_t reused = 0, computed = 0;
    double started = 0;
  } pending;
  pending.started = progress.elapsed();
  const auto commit = [&](int64_t end) {
    if (!forecast_done && pending.computed > 0) {
      forecast_done = true;
      first_block_forecast(job, pending.computed, progress.elapsed() - pending.started, n - end);
    }
    skip_log->flush();  // the skip entries of a block are durable before its rows
    if (!pending.keys.empty()) {
      const at::Tensor rows = at::cat(pending.rows);
      writer.append(rows.data_ptr<float>(), rows.size(0), pending.keys.data(), pending.ids, pending.indices.data(),
                    pending.tokens.data(), pending.reused);
    }
    pending = Pending{};
    pending.started = progress.elapsed();
    kill_point();
    util::stop_point(fmt::format("{} rows to {}.partial", writer.rows(), job.out_path));
  };
  // Groups start at multiples of group_rows in the caller's whole list,
  // blocks at multiples of block_rows.
  for (int64_t begin = start; begin < n;) {
    const int64_t end = std::min(n, next_multiple(begin, job.group_rows));
    std::vector<int64_t> group(job.records.begin() + begin, job.records.begin() + end);
    std::vector<data::Sample> samples;
    reader.read(group, [&](data::Sample&& s) { samples.push_back(std::move(s)); });
    int64_t reused = 0;
    const at::Tensor rows = group_rows_of(job, samples, compute, reused);
    pending.reused += reused;
    pending.computed += static_cast<int64_t>(samples.size()) - reused;
    if (!samples.empty()) pending.rows.push_back(rows);
    for (data::Sample& s : samples) {
      pending.keys.push_back(s.content_hash);
      pending.ids.push_back(std::move(s.id));
      pending.indices.push_back(s.index);
      pending.tokens.push_back(s.source_tokens);
    }
    progress.advance(end - begin);
    begin = end;
    // A stop requested within a block commits the groups done so far (a
    // block end polls in commit's stop_point, so every group polls once).
    if (begin == n || (job.first_position + begin) % job.block_rows == 0 || util::poll_stop()) commit(begin);
  }
  progress.finish();
  writer.finalize();
  skip_log->close();
  result.rows = writer.rows();
  result.reused_rows = writer.reused_rows();
  result.stats = reader.stats();
  return result;
}

}  // namespace ntks::features
