#include "ntks/select/mixture.h"

#include "ntks/select/shuffle.h"

namespace ntks::select {

std::vector<MixtureItem> mixture_order(std::size_t domain, std::size_t selected, std::uint64_t seed) {
  std::vector<MixtureItem> items;
  items.reserve(domain + selected);
  for (std::size_t i = 0; i < domain; ++i) items.push_back({true, i});
  for (std::size_t i = 0; i < selected; ++i) items.push_back({false, i});
  portable_shuffle(items, seed);
  return items;
}

}  // namespace ntks::select
