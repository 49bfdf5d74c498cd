#pragma once
// Visitor that lists dotted keys: all of them (all_keys) or one group's own.

#include <string>
#include <vector>

#include "schema.h"

namespace ntks::config::schema {

class KeyLister {
 public:
  explicit KeyLister(std::string prefix = "", bool recurse = true)
      : prefix_(std::move(prefix)), recurse_(recurse) {}

  template <class T>
  void field(const char* key, T&, const char*) {
    keys.push_back(prefix_ + key);
  }
  template <class S>
  void group(const char* key, S& s, const char*) {
    keys.push_back(prefix_ + key);
    if (!recurse_) return;
    KeyLister sub(prefix_ + key + ".", true);
    visit(sub, s);
    keys.insert(keys.end(), sub.keys.begin(), sub.keys.end());
  }

  std::vector<std::string> keys;

 private:
  std::string prefix_;
  bool recurse_;
};

/// The keys directly inside a struct of type S ("dir", "seed" for RunConfig).
template <class S>
std::vector<std::string> own_keys() {
  S s{};
  KeyLister lister("", false);
  visit(lister, s);
  return lister.keys;
}

}  // namespace ntks::config::schema
