#pragma once
// WordNet synsets as short texts for the pretraining corpus, e.g.
//   physician, doctor, doc, medico: a licensed medical practitioner. "I felt so bad I went to see my doctor"
// The form is drawn per synset from the seed (as the demo's sample kinds are),
// among: the word list with the gloss and examples as above; "doctor (noun):
// ... For example: ..." with the other words and, where WordNet has one, what
// it is a kind of; "To sue is to institute legal proceedings against." for
// verbs and "The word 'x' means ..." for the others; and an example sentence
// first, then what the word means in it.

#include <cstdint>
#include <string>

#include "ntks/corpora/wordnet.h"

namespace ntks::corpora::wordnet {

/// The text of synset `index`; empty when it has neither a definition nor an example.
std::string synset_text(const Database& db, size_t index, uint64_t seed);

}  // namespace ntks::corpora::wordnet
