#pragma once
// Array versions of float_to_half / half_to_float for the store's row buffers.

#include <cstddef>
#include <cstdint>

namespace ntks::store {

void floats_to_halves(const float* in, std::uint16_t* out, std::size_t n);
void halves_to_floats(const std::uint16_t* in, float* out, std::size_t n);

}  // namespace ntks::store
