#pragma once
// `ntk-select diagnose entk`: kernel ridge regression with the empirical NTK
// (paper, Appendix A.5) against LoRA fine-tuning on the same split of a
// labelled multiple-choice set (test lines with "options" and "answer",
// data/choices.h).
//
// Formulation. The paper's tasks have one label set for every question; here
// each question has its own options (demo-data's test.jsonl), so a question's
// label is the one-hot vector over its options: every (question, option) pair
// is a sample — the prompt with the option as the response, exactly as
// `evaluate` scores it — with target 1 for the right option and 0 otherwise.
// With Φ the per-sample gradient rows (grads.output f, projected to d; at the
// fine-tune's start by default, the kernel Definition 1 is about),
// K = ΦΦᵀ, and the training pairs T:
//   α = (K_TT + λ·mean(diag K_TT)·I)⁻¹ y_T,   score(o) = K_oT α,
// a question is answered by its highest-scoring option (ties: the lowest
// index), as `evaluate` answers by the highest likelihood. λ is relative to
// the kernel's mean diagonal so that one grid fits any model's scale; it is
// chosen on a validation part of the training questions (the best accuracy;
// ties: the larger λ), then α is refitted on all training questions and the
// test questions are scored. Fine-tuning trains on the training questions'
// lines (prompt + right answer) and is scored on the test questions.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"

namespace ntks::diagnose {

/// The paper's grid (A.5.2).
inline const std::vector<double> kPaperLambdas = {1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1};

struct Question {
  std::string id;         ///< the record's id
  std::string line;       ///< the JSONL line, verbatim
  int64_t answer = 0;     ///< index of the right option
  int64_t first = 0;      ///< its first option sample in ChoiceData::options
  int64_t count = 0;      ///< its number of options
};

struct ChoiceData {
  std::vector<data::Sample> options;  ///< every question's option samples, question by question
  std::vector<Question> questions;
};

/// Every line of `file` as a question; InputError naming the line when one
/// has no "options"/"answer" (the regression needs the label of each).
ChoiceData read_choice_data(const std::string& file, const config::Config& cfg, const std::string& tokenizer,
                            int64_t vocab, dist::Communicator& comm);

/// Question positions: `test` the test part, `fit` + `val` the training part
/// (`val` chooses λ). A portable seeded shuffle, then the first
/// round(test_share·n) are test and round(val_share·rest) of the rest are
/// validation; each part ascending. UsageError when a part would be empty.
struct EntkSplit {
  std::vector<int64_t> fit, val, test;
};
EntkSplit split_questions(int64_t questions, double test_share, double val_share, uint64_t seed);

/// Share of `which` questions answered right by per-option `scores`.
double choice_accuracy(const std::vector<Question>& questions, const std::vector<int64_t>& which,
                       const std::vector<double>& scores);

struct KrrResult {
  std::vector<double> lambdas, val_accuracy;  ///< per λ of the grid
  double lambda = 0;                          ///< the chosen one
  double test_accuracy = 0;
  std::vector<double> test_scores;            ///< per option sample (0 outside the test questions)
};

/// The regression above on the option kernel `k` [options, options] float64.
KrrResult kernel_regression(const at::Tensor& k, const std::vector<Question>& questions, const EntkSplit& split,
                            const std::vector<double>& lambdas);

}  // namespace ntks::diagnose
