// `ntk-select evaluate` through the real binary against an independent
// computation here: the response-token loss from the model's full logits in
// float64, one sample at a time, and the multiple-choice accuracy of a
// hand-made options file whose answers are set from those scores (so the
// expected accuracy is known exactly, ties included); 1 and 2 ranks agree;
// bad test files are named by file:line.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "ntks/data/chat_template.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using ntks::testing::run_command;
using ntks::testing::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

struct EvaluateFixture {
  TempDir dir;
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string model = dir.file("model"), adapter = dir.file("adapter");
  EvaluateFixture() {
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 2 --hidden 32 --intermediate 48 "
                                     "--heads 4 --kv-heads 2 --vocab 272 --lora-out {} --lora-r 4 2>&1",
                                     NTKS_BINARY, model, adapter));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  ntks::testing::CommandResult evaluate(const std::string& args, const std::string& launcher = "") const {
    return run_command(fmt::format("{} {} evaluate --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 "
                                   "--set model.device=cpu --set model.template=qwen3 --set run.dir={} "
                                   "--set evaluate.batch_size=3 {} 2>&1",
                                   launcher, NTKS_BINARY, model, tokenizer, dir.file("run"), args));
  }
};

/// Summed NLL and count of the response tokens of one conversation, from the
/// full [T, vocab] logits in float64.
std::pair<double, int64_t> response_nll(const ntks::model::Decoder& dec, const ntks::tokenizer::Tokenizer& tok,
                                        const std::vector<ntks::data::Message>& messages) {
  const ntks::data::TokenizedSample t = ntks::data::tokenize_chat(tok, ntks::config::Template::qwen3, messages);
  const auto T = static_cast<int64_t>(t.ids.size());
  std::vector<int64_t> ids(t.ids.begin(), t.ids.end());
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::tensor(ids, at::kLong).reshape({1, T});
  const at::Tensor logp =
      torch::log_softmax(dec.logits(dec.hidden_states(x, torch::ones({1, T}, at::kLong)))[0].to(at::kDouble), -1);
  double nll = 0;
  int64_t n = 0;
  for (int64_t i = 1; i < T; ++i)
    if (t.response_mask[static_cast<size_t>(i)]) {
      nll -= logp[i - 1][ids[static_cast<size_t>(i)]].item<double>();
      ++n;
    }
  return {nll, n};
}

std::vector<ntks::data::Message> alpaca(const std::string& q, const std::string& a) {
  return {{"user", q}, {"assistant", a}};
}

TEST(EvaluateCli, LossAndAccuracyEqualAnIndependentComputation) {
  EvaluateFixture f;
  const auto tok = ntks::testing::byte_tokenizer();
  ntks::model::Decoder dec = ntks::model::Decoder::load(f.model, at::kFloat, at::kCPU);
  ntks::model::load_adapter(dec, f.adapter);

  // Questions with options; the answer is set from the scores computed here:
  // even questions get the best option (right), odd ones the worst (wrong).
  struct Question {
    std::string q;
    std::vector<std::string> options;
  };
  std::vector<Question> questions;
  for (int i = 0; i < 7; ++i)
    questions.push_back({fmt::format("What is {} plus {}?", i, i + 1),
                         {fmt::format("{}", 2 * i + 1), fmt::format("about {}", i * 3), "no idea at all", "zero"}});
  std::string lines;
  double nll_total = 0, sample_means = 0;
  int64_t tokens = 0, samples = 0, right = 0, right_sum = 0;
  auto add_loss = [&](const std::vector<ntks::data::Message>& m) {
    const auto [nll, n] = response_nll(dec, tok, m);
    nll_total += nll;
    tokens += n;
    sample_means += nll / static_cast<double>(n);
    ++samples;
  };
  for (size_t k = 0; k < questions.size(); ++k) {
    const Question& q = questions[k];
    std::vector<double> mean, sum;
    for (const std::string& o : q.options) {
      const auto [nll, n] = response_nll(dec, tok, alpaca(q.q, o));
      mean.push_back(-nll / static_cast<double>(n));
      sum.push_back(-nll);
    }
    const auto best = std::max_element(mean.begin(), mean.end()) - mean.begin();
    const auto worst = std::min_element(mean.begin(), mean.end()) - mean.begin();
    const auto answer = k % 2 == 0 ? best : worst;
    right += answer == best ? 1 : 0;
    right_sum += answer == std::max_element(sum.begin(), sum.end()) - sum.begin() ? 1 : 0;
    // The line's own output (its loss) is option 0.
    lines += json{{"instruction", q.q}, {"output", q.options[0]}, {"options", q.options}, {"answer", answer}}.dump() +
             "\n";
    add_loss(alpaca(q.q, q.options[0]));
  }
  // Ties go to the lowest index: [X, X] with answer 0 is right, with answer 1 wrong.
  for (int answer : {0, 1}) {
    lines += json{{"prompt", "Say yes."}, {"response", "yes"}, {"options", {"yes", "yes"}}, {"answer", answer}}.dump() +
             "\n";
    add_loss({{"user", "Say yes."}, {"assistant", "yes"}});
    right += answer == 0 ? 1 : 0;
    right_sum += answer == 0 ? 1 : 0;
  }
  // A line without options counts for the loss only.
  lines += json{{"instruction", "Name a colour."}, {"output", "blue"}}.dump() + "\n";
  add_loss(alpaca("Name a colour.", "blue"));
  const std::string test = f.dir.write("test.jsonl", lines);
  const int64_t n_questions = static_cast<int64_t>(questions.size()) + 2;

  for (int np : {1, 2}) {
    const std::string out = f.dir.file(fmt::format("result{}.json", np));
    auto r = f.evaluate(fmt::format("--test {} --adapter {} --out {}", test, f.adapter, out),
                        fmt::format("mpirun --oversubscribe -np {}", np));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(fmt::format("evaluate: {} samples of {}", samples, test)), std::string::npos) << r.output;
    const json j = json::parse(ntks::read_file(out));
    EXPECT_EQ(j["samples"], samples);
    EXPECT_EQ(j["tokens"], tokens);
    const double loss = nll_total / static_cast<double>(tokens);
    EXPECT_NEAR(j["loss"].get<double>(), loss, 1e-5 * loss) << j;
    EXPECT_NEAR(j["perplexity"].get<double>(), std::exp(loss), 1e-5 * std::exp(loss)) << j;
    EXPECT_NEAR(j["mean_sample_loss"].get<double>(), sample_means / static_cast<double>(samples), 1e-5 * loss) << j;
    EXPECT_EQ(j["options_samples"], n_questions);
    EXPECT_EQ(j["options"], 4 * static_cast<int64_t>(questions.size()) + 4);
    EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), static_cast<double>(right) / static_cast<double>(n_questions));
    EXPECT_DOUBLE_EQ(j["accuracy_sum"].get<double>(), static_cast<double>(right_sum) / static_cast<double>(n_questions));
    EXPECT_EQ(j["adapter"], fs::absolute(f.adapter).string());
    EXPECT_EQ(j["ranks"], np);
  }
  EXPECT_EQ(right, 4 + 1);  // questions 0, 2, 4, 6 and the tie answered 0

  // The base model scores differently; the default output is RUN/evaluate/result.json.
  auto r = f.evaluate(fmt::format("--test {} --adapter none --accuracy", test));
  EXPECT_EQ(r.status, 1) << r.output;  // the colour line has no options
  EXPECT_NE(r.output.find(test + ":10: no \"options\""), std::string::npos) << r.output;
  r = f.evaluate(fmt::format("--test {} --adapter none", test));
  ASSERT_EQ(r.status, 0) << r.output;
  const json base = json::parse(ntks::read_file(f.dir.file("run/evaluate/result.json")));
  EXPECT_EQ(base["adapter"], "none");
  EXPECT_GT(std::abs(base["loss"].get<double>() - nll_total / static_cast<double>(tokens)), 1e-4);
}

TEST(EvaluateCli, BadTestFilesAreNamed) {
  EvaluateFixture f;
  const std::string plain = f.dir.write("plain.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n");
  auto r = f.evaluate(fmt::format("--test {} --adapter none --accuracy", plain));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(plain + ":1: no \"options\""), std::string::npos) << r.output;
  r = f.evaluate(fmt::format("--test {} --adapter none --set evaluate.accuracy=true", plain));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(plain + ":1: no \"options\""), std::string::npos) << r.output;

  const std::pair<const char*, const char*> bad[] = {
      {R"({"instruction": "a", "output": "b", "options": ["b", "c"], "answer": 2})",
       "\"answer\" 2 is not an index of its 2 options"},
      {R"({"instruction": "a", "output": "b", "options": ["b"], "answer": 0})", "at least two strings"},
      {R"({"instruction": "a", "output": "b", "options": ["b", ""], "answer": 0})", "options[1] must be a non-empty"},
      {R"({"instruction": "a", "output": "b", "options": ["b", "c"]})", "no integer \"answer\""},
      {R"({"instruction": "a", "output": "b", "answer": 1})", "has an \"answer\" but no \"options\""},
  };
  for (const auto& [line, message] : bad) {
    const std::string file = f.dir.write("bad.jsonl", std::string("{\"instruction\": \"x\", \"output\": \"y\"}\n") + line + "\n");
    r = f.evaluate(fmt::format("--test {} --adapter none", file));
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(file + ":2: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << line << "\n" << r.output;
  }
  r = f.evaluate(fmt::format("--test {}", f.dir.file("nothing.jsonl")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nothing.jsonl: no such file"), std::string::npos) << r.output;
  r = f.evaluate("");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--test FILE"), std::string::npos) << r.output;
  r = f.evaluate(fmt::format("--test {}", plain));  // the default adapter: RUN/finetune/adapter, not made
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("finetune/adapter: no adapter here"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} evaluate --help", NTKS_BINARY));
  EXPECT_EQ(r.status, 0);
  for (const char* key : {"--accuracy", "mean log-likelihood per response token", "mean_sample_loss", "options_samples",
                          "RUN/evaluate/result.json", "--adapter none"})
    EXPECT_NE(r.output.find(key), std::string::npos) << key;
}

}  // namespace
