#pragma once
// Pretraining data: documents from JSONL files, tokenized, split into a
// training and a held-out part, and packed into fixed-length sequences.
//
// Each document is its text field's tokens followed by the end-of-text token;
// the training documents, in file order, form one token stream cut into
// sequences of seq_len tokens (the incomplete tail is dropped and counted),
// and the held-out ones another. A document is held out when the XXH3-64
// hash of its text, mod 10^6, is below eval_share x 10^6: the split depends
// only on the document, never on its position, the files' order or the rank
// count. Every token of a sequence after the first is a training target
// (response_mask all 1), so the training loop's per-sample loss is the mean
// next-token NLL over the sequence.

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/data/sample_reader.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::train {

struct PackOptions {
  std::string text_field = "text";  ///< the documents' text field
  int64_t seq_len = 256;            ///< tokens per sequence
  double eval_share = 0.01;         ///< share of documents held out
  int64_t eval_sequences = 256;     ///< held-out sequences kept, at most (the first ones)
  int threads = 1;                  ///< tokenizer threads
};

struct PackedCorpus {
  std::vector<data::Sample> train, eval;  ///< index = position; id "train:K" / "eval:K"
  int64_t documents = 0;        ///< documents read (blank lines and empty texts not counted)
  int64_t eval_documents = 0;   ///< of which held out
  int64_t blank_lines = 0;      ///< lines with nothing but white space
  int64_t empty_texts = 0;      ///< documents whose text is empty (no tokens to learn)
  int64_t bytes = 0;            ///< text bytes of the documents
  int64_t train_tokens = 0;     ///< tokens of the training stream (end-of-text tokens included)
  int64_t eval_tokens = 0;      ///< tokens of the held-out stream
  int64_t dropped_tokens = 0;   ///< the streams' incomplete tails, and held-out sequences past eval_sequences
  int32_t end_of_text = -1;     ///< the separator's id
};

/// The id that ends a document: <|endoftext|>, <|end_of_text|> or </s>,
/// the first the tokenizer has; InputError naming `tokenizer_path` when it
/// has none.
int32_t end_of_text_id(const tokenizer::Tokenizer& tok, const std::string& tokenizer_path);

/// Reads, tokenizes and packs `files`. InputError naming file:line for a line
/// that is not a JSON object with a string `text_field`, or not UTF-8;
/// InputError when the corpus gives no training sequence, or no held-out
/// sequence while eval_share > 0 (the message gives the counts and what to
/// change).
PackedCorpus pack_corpus(const std::vector<std::string>& files, const tokenizer::Tokenizer& tok,
                         const std::string& tokenizer_path, const PackOptions& options);

}  // namespace ntks::train
