// SampleReader: corpus lines -> samples, with data.on_error and
// data.overlong applied here and nowhere else.

#include "ntks/data/sample_reader.h"

#include <fmt/ranges.h>
#include <algorithm>

#include "ntks/config/enums.h"
#include "ntks/data/chat_template.h"
#include "ntks/data/record.h"
#include "ntks/log/log.h"
#include "ntks/tokenizer/tokenizer.h"

namespace ntks::data {

void ReadStats::merge(const ReadStats& o) {
  records += o.records;
  samples += o.samples;
  skipped += o.skipped;
  truncated += o.truncated;
  dropped += o.dropped;
  tokens += o.tokens;
  for (const auto& [reason, n] : o.reasons) reasons[reason] += n;
}

std::string ReadStats::summary() const {
  std::string s = fmt::format("{} records: {} samples, {} tokens", records, samples, tokens);
  if (truncated) s += fmt::format(" ({} truncated to max_seq_len)", truncated);
  if (skipped) s += fmt::format(", {} skipped", skipped);
  if (dropped) s += fmt::format(", {} dropped", dropped);
  if (!reasons.empty()) {
    std::vector<std::string> parts;
    for (const auto& [reason, n] : reasons) parts.push_back(fmt::format("{} {}", n, reason));
    s += fmt::format(" [{}]", fmt::join(parts, ", "));
  }
  return s;
}

SampleReader::SampleReader(const CorpusIndex& index, const config::Config& cfg, const tokenizer::Tokenizer& tok,
                           SkipLog* skip_log)
    : index_(index),
      cfg_(cfg),
      tok_(tok),
      skip_log_(skip_log),
      template_(resolve_template(cfg.model.chat_template, tok)) {}

void SampleReader::read(Range range, const std::function<void(Sample&&)>& fn) {
  index_.for_each(range, [&](int64_t global, std::string_view line) { handle(global, line, fn); });
}

void SampleReader::read(const std::vector<int64_t>& indices, const std::function<void(Sample&&)>& fn) {
  for (int64_t global : indices) handle(global, index_.read(global), fn);
}

void SampleReader::reject(int64_t global, std::string_view line, const std::string& reason,
                          const std::string& message) {
  stats_.reasons[reason] += 1;
  const RecordLocation loc = index_.locate(global);
  constexpr int64_t kWarnings = 5;  // the rest only in the skip log and the summary
  const int64_t seen = stats_.skipped + stats_.dropped;
  if (seen <= kWarnings) {
    log::warn("{}: {}{}", index_.where(global), message,
              seen == kWarnings ? " (further ones only counted and written to the skip log)" : "");
  }
  if (skip_log_) skip_log_->add(global, index_.files()[loc.file], loc.line, loc.offset, reason, message, line);
}

void SampleReader::handle(int64_t global, std::string_view line, const std::function<void(Sample&&)>& fn) {
  ++stats_.records;
  Sample s;
  s.index = global;
  try {
    ParsedRecord rec = parse_record(line, cfg_.data);
    s.content_hash = content_hash(rec);
    s.id = rec.id.empty() ? index_.where(global) : rec.id;
    if (rec.format == config::RecordFormat::tokens) {
      for (size_t i = 0; i < rec.ids.size(); ++i)
        if (rec.ids[i] >= tok_.vocab_size())
          throw RecordError("tokens", fmt::format("ids[{}] = {} is not below the vocabulary size {}", i, rec.ids[i],
                                                  tok_.vocab_size()));
      s.ids = std::move(rec.ids);
      s.response_mask = std::move(rec.response_mask);
    } else {
      TokenizedSample t = tokenize_chat(tok_, template_, rec.messages);
      s.ids = std::move(t.ids);
      s.response_mask = std::move(t.response_mask);
    }
  } catch (const RecordError& e) {
    if (cfg_.data.on_error == config::OnError::fail)
      throw InputError(fmt::format("{}: {} (data.on_error: skip would skip such lines)", index_.where(global),
                                   e.what()));
    ++stats_.skipped;
    reject(global, line, e.reason(), e.what());
    return;
  } catch (const InputError& e) {  // the tokenizer and template name no line
    if (cfg_.data.on_error == config::OnError::fail)
      throw InputError(fmt::format("{}: {}", index_.where(global), e.what()));
    ++stats_.skipped;
    reject(global, line, "text", e.what());
    return;
  }

  s.source_tokens = static_cast<int64_t>(s.ids.size());
  const auto max_len = static_cast<size_t>(cfg_.model.max_seq_len);
  if (s.ids.size() > max_len) {
    const size_t n = s.ids.size();
    if (cfg_.data.overlong == config::Overlong::drop) {
      ++stats_.dropped;
      reject(global, line, "overlong",
             fmt::format("{} tokens, over model.max_seq_len {} (data.overlong: drop)", n, max_len));
      return;
    }
    s.ids.resize(max_len);
    s.response_mask.resize(max_len);
    if (std::find(s.response_mask.begin(), s.response_mask.end(), 1) == s.response_mask.end()) {
      ++stats_.dropped;
      reject(global, line, "overlong_prompt",
             fmt::format("{} tokens: the first model.max_seq_len {} hold no response token", n, max_len));
      return;
    }
    s.truncated = true;
    ++stats_.truncated;
  }
  ++stats_.samples;
  stats_.tokens += static_cast<int64_t>(s.ids.size());
  fn(std::move(s));
}

}  // namespace ntks::data
