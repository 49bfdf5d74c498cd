#include "ntks/diagnose/entk.h"

#include <algorithm>
#include <cmath>

#include "ntks/data/chat_template.h"
#include "ntks/data/choices.h"
#include "ntks/data/shared_samples.h"
#include "ntks/select/shuffle.h"
#include "ntks/util/error.h"

namespace ntks::diagnose {

ChoiceData read_choice_data(const std::string& file, const config::Config& cfg, const std::string& tokenizer,
                            int64_t vocab, dist::Communicator& comm) {
  ChoiceData out;
  data::SharedRead how;
  how.tokenizer = tokenizer;
  how.vocab = vocab;
  how.label = "labelled set";
  how.on_root = [&](const data::CorpusIndex& index, const tokenizer::Tokenizer& tok,
                    const std::vector<data::Sample>& samples) {
    const config::Template tmpl = data::resolve_template(cfg.model.chat_template, tok);
    for (const data::Sample& s : samples) {
      const std::string where = index.where(s.index);
      Question q;
      q.line = index.read(s.index);
      q.id = index.id(s.index);
      const std::optional<data::Choices> c = data::parse_choices(q.line, where);
      if (!c)
        throw InputError(fmt::format("{}: no \"options\": the eNTK regression needs every line labelled, with "
                                     "\"options\" (a list of answers) and \"answer\" (the right one's index)",
                                     where));
      q.answer = c->answer;
      q.first = static_cast<int64_t>(out.options.size());
      for (data::Sample& o : data::choice_samples(q.line, *c, cfg, tok, tmpl, s.index, where)) {
        for (int32_t id : o.ids)
          if (id < 0 || id >= vocab)
            throw InputError(fmt::format("{}: an option's token id {} is outside the model's vocabulary of {}",
                                         where, id, vocab));
        out.options.push_back(std::move(o));
      }
      q.count = static_cast<int64_t>(out.options.size()) - q.first;
      out.questions.push_back(std::move(q));
    }
  };
  data::ReadStats stats;
  const std::vector<data::Sample> samples = data::read_samples_shared({file}, cfg, how, comm, &stats);
  if (samples.size() != static_cast<size_t>(stats.records))
    throw InputError(fmt::format("{}: {} of {} lines did not become samples ({}); fix them (`ntk-select check-data`)",
                                 file, stats.records - static_cast<int64_t>(samples.size()), stats.records,
                                 stats.summary()));
  return out;  // diagnose runs in one process: rank 0's reading is the result
}

EntkSplit split_questions(int64_t questions, double test_share, double val_share, uint64_t seed) {
  if (!(test_share > 0 && test_share < 1) || !(val_share > 0 && val_share < 1))
    throw UsageError(fmt::format("--test-share {} / --val-share {}: each must lie strictly between 0 and 1",
                                 test_share, val_share));
  std::vector<int64_t> order(static_cast<size_t>(questions));
  for (int64_t i = 0; i < questions; ++i) order[static_cast<size_t>(i)] = i;
  select::portable_shuffle(order, seed);
  const auto n_test = static_cast<int64_t>(std::llround(test_share * static_cast<double>(questions)));
  const auto n_val = static_cast<int64_t>(std::llround(val_share * static_cast<double>(questions - n_test)));
  EntkSplit s;
  for (int64_t i = 0; i < questions; ++i)
    (i < n_test ? s.test : i < n_test + n_val ? s.val : s.fit).push_back(order[static_cast<size_t>(i)]);
  if (s.test.empty() || s.val.empty() || s.fit.empty())
    throw UsageError(fmt::format("{} labelled question(s) split into {} to fit, {} to validate and {} to test: each "
                                 "part needs at least one (more questions, or other --test-share / --val-share)",
                                 questions, s.fit.size(), s.val.size(), s.test.size()));
  for (auto* part : {&s.fit, &s.val, &s.test}) std::sort(part->begin(), part->end());
  return s;
}

double choice_accuracy(const std::vector<Question>& questions, const std::vector<int64_t>& which,
                       const std::vector<double>& scores) {
  if (which.empty()) return 0;
  int64_t right = 0;
  for (int64_t qi : which) {
    const Question& q = questions[static_cast<size_t>(qi)];
    int64_t best = 0;
    for (int64_t o = 1; o < q.count; ++o)
      if (scores[static_cast<size_t>(q.first + o)] > scores[static_cast<size_t>(q.first + best)]) best = o;
    right += best == q.answer;
  }
  return static_cast<double>(right) / static_cast<double>(which.size());
}

namespace {

std::vector<int64_t> option_rows(const std::vector<Question>& questions, const std::vector<int64_t>& which) {
  std::vector<int64_t> rows;
  for (int64_t qi : which) {
    const Question& q = questions[static_cast<size_t>(qi)];
    for (int64_t o = 0; o < q.count; ++o) rows.push_back(q.first + o);
  }
  return rows;
}

// Scores of every option sample (0 outside `eval`) from a fit on `train`.
std::vector<double> fit_and_score(const at::Tensor& k, const std::vector<Question>& questions,
                                  const std::vector<int64_t>& train, const std::vector<int64_t>& eval, double lambda) {
  const at::Tensor tr = at::tensor(option_rows(questions, train), at::kLong);
  const at::Tensor ev = at::tensor(option_rows(questions, eval), at::kLong);
  std::vector<double> y;
  for (int64_t qi : train) {
    const Question& q = questions[static_cast<size_t>(qi)];
    for (int64_t o = 0; o < q.count; ++o) y.push_back(o == q.answer ? 1.0 : 0.0);
  }
  const at::Tensor ktt = k.index_select(0, tr).index_select(1, tr);
  const double ridge = lambda * ktt.diagonal().mean().item<double>();
  const at::Tensor alpha =
      at::linalg_solve(ktt + ridge * at::eye(ktt.size(0), at::kDouble), at::tensor(y, at::kDouble).unsqueeze(1));
  const at::Tensor s = k.index_select(0, ev).index_select(1, tr).matmul(alpha).squeeze(1).contiguous();
  std::vector<double> scores(static_cast<size_t>(k.size(0)), 0.0);
  const auto rows = option_rows(questions, eval);
  for (size_t i = 0; i < rows.size(); ++i) scores[static_cast<size_t>(rows[i])] = s[static_cast<int64_t>(i)].item<double>();
  return scores;
}

}  // namespace

KrrResult kernel_regression(const at::Tensor& k, const std::vector<Question>& questions, const EntkSplit& split,
                            const std::vector<double>& lambdas) {
  if (lambdas.empty()) throw UsageError("--lambdas: give at least one value");
  KrrResult r;
  r.lambdas = lambdas;
  double best = -1;
  for (double lambda : lambdas) {
    if (!(lambda > 0)) throw UsageError(fmt::format("--lambdas: {} is not positive", lambda));
    const double acc = choice_accuracy(questions, split.val, fit_and_score(k, questions, split.fit, split.val, lambda));
    r.val_accuracy.push_back(acc);
    if (acc > best || (acc == best && lambda > r.lambda)) best = acc, r.lambda = lambda;
  }
  std::vector<int64_t> train = split.fit;
  train.insert(train.end(), split.val.begin(), split.val.end());
  std::sort(train.begin(), train.end());
  r.test_scores = fit_and_score(k, questions, train, split.test, r.lambda);
  r.test_accuracy = choice_accuracy(questions, split.test, r.test_scores);
  return r;
}

}  // namespace ntks::diagnose
