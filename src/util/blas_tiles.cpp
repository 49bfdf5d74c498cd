// GEMM and GEMV in fixed tiles: results that do not depend on the thread count.
//
// OpenBLAS's threaded GEMM divides the work by its thread count, and with
// some shapes and kernels that changes the order of the sums: the same fp32
// product differs in the last bits between 1 and 2 threads (measured with
// OpenBLAS 0.3.21: 40% of a grid of shapes on Haswell's kernels, 20% on
// Prescott's, 9% on Cooperlake's). Then a run on 1 rank x 2 threads and one
// on 2 ranks x 1 thread train different weights.
//
// So this file defines sgemm_, dgemm_, sgemv_ and dgemv_ in the executable.
// LibTorch (and Faiss) call these Fortran symbols through the dynamic linker,
// which binds them to the executable's definitions before the BLAS library's
// (the way a malloc replacement works). Each call is cut into tiles that
// depend only on its shape; every tile is computed by the real routine on one
// thread (called inside an OpenMP team, OpenBLAS does not thread), and the
// threads share the tiles. The same shapes give the same bits on any thread
// count. Cost: `bench --what gemm` (tiled beside the peak) and any bench with
// --untiled (docs/architecture.md, "CPU efficiency").

#include <dlfcn.h>
#include <omp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "ntks/util/blas_kernels.h"

namespace ntks::util {
namespace {

std::atomic<bool> g_tiled{true};

// Tiles of at most 256 along a dimension, of balanced lengths rounded to 16:
// large enough that packing stays a small share of a tile's work. A product
// of fewer than 16 such tiles (a 256 x 256 attention block) is cut finer, down
// to tiles of 32 or of 1 MFLOP, so that it still feeds several threads (one
// tile would leave all but one idle). Every length follows from the shape.
constexpr long kMaxTile = 256, kMinTile = 32, kWantedTiles = 16;
constexpr double kMinTileFlops = 1e6;
constexpr long kGemvChunk = 2048;  // GEMV output elements a tile

long tile_length(long d, long max_tile) {
  const long tiles = (d + max_tile - 1) / max_tile;
  const long even = (d + tiles - 1) / tiles;
  return (even + 15) / 16 * 16;
}

long count(long d, long tile) { return (d + tile - 1) / tile; }

// The tile lengths (rows, columns) of C for an m x n x k product.
std::pair<long, long> gemm_tiles(long m, long n, long k) {
  long tm = tile_length(m, kMaxTile), tn = tile_length(n, kMaxTile);
  while (count(m, tm) * count(n, tn) < kWantedTiles) {
    const bool rows = tm >= tn;  // cut the longer side
    const long cut = rows ? tm : tn;
    const long shorter = tile_length(rows ? m : n, cut / 2);
    const double flops = 2.0 * static_cast<double>(k) * static_cast<double>(rows ? shorter * tn : tm * shorter);
    if (shorter < kMinTile || shorter >= cut || flops < kMinTileFlops) break;
    (rows ? tm : tn) = shorter;
  }
  return {tm, tn};
}

bool transposed(const char* t) { return *t != 'N' && *t != 'n'; }

template <class Fn>
Fn real(const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn == nullptr) {
    std::fprintf(stderr, "ntk-select: %s: no BLAS library provides it (%s)\n", name, dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Runs fn(t) for t in [0, tiles) on this thread's OpenMP team. Alone or
// already in a team: in place (one thread; OpenBLAS does not thread inside a
// team). Else a team of omp_get_max_threads() (torch's thread count), even
// for one tile, so that OpenBLAS sees a team and computes it on one thread.
template <class Fn>
void for_tiles(long tiles, Fn fn) {
  const int threads = omp_get_max_threads();
  if (threads <= 1 || omp_in_parallel()) {
    for (long t = 0; t < tiles; ++t) fn(t);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (long t = 0; t < tiles; ++t) fn(t);
}

template <class T>
using Gemm = void (*)(const char*, const char*, const int*, const int*, const int*, const T*, const T*, const int*,
                      const T*, const int*, const T*, T*, const int*);
template <class T>
using Gemv = void (*)(const char*, const int*, const int*, const T*, const T*, const int*, const T*, const int*,
                      const T*, T*, const int*);

// Column-major, as BLAS: C (m x n) = alpha op(A) (m x k) op(B) (k x n) + beta C.
template <class T>
void tiled_gemm(Gemm<T> gemm, const char* ta, const char* tb, const int* m, const int* n, const int* k,
                const T* alpha, const T* a, const int* lda, const T* b, const int* ldb, const T* beta, T* c,
                const int* ldc) {
  if (!g_tiled.load(std::memory_order_relaxed) || *m <= 0 || *n <= 0) {
    gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const auto [tm, tn] = gemm_tiles(*m, *n, *k);
  const long rows = (*m + tm - 1) / tm, cols = (*n + tn - 1) / tn;
  for_tiles(rows * cols, [&](long t) {
    const long i0 = (t % rows) * tm, j0 = (t / rows) * tn;
    const int mi = static_cast<int>(std::min<long>(tm, *m - i0)), nj = static_cast<int>(std::min<long>(tn, *n - j0));
    const T* at = transposed(ta) ? a + i0 * *lda : a + i0;  // rows i0.. of op(A)
    const T* bt = transposed(tb) ? b + j0 : b + j0 * *ldb;  // columns j0.. of op(B)
    gemm(ta, tb, &mi, &nj, k, alpha, at, lda, bt, ldb, beta, c + i0 + j0 * *ldc, ldc);
  });
}

// y = alpha op(A) x + beta y, A m x n; output chunks of y.
template <class T>
void tiled_gemv(Gemv<T> gemv, const char* trans, const int* m, const int* n, const T* alpha, const T* a,
                const int* lda, const T* x, const int* incx, const T* beta, T* y, const int* incy) {
  const bool t = transposed(trans);
  const long out = t ? *n : *m;
  if (!g_tiled.load(std::memory_order_relaxed) || out <= 0 || *incy <= 0) {
    // A negative increment walks y backwards: one piece, still on one thread.
    for_tiles(1, [&](long) { gemv(trans, m, n, alpha, a, lda, x, incx, beta, y, incy); });
    return;
  }
  const long chunk = tile_length(out, kGemvChunk);
  for_tiles((out + chunk - 1) / chunk, [&](long i) {
    const long o0 = i * chunk;
    const int len = static_cast<int>(std::min<long>(chunk, out - o0));
    T* yt = y + o0 * *incy;
    if (t)
      gemv(trans, m, &len, alpha, a + o0 * *lda, lda, x, incx, beta, yt, incy);
    else
      gemv(trans, &len, n, alpha, a + o0, lda, x, incx, beta, yt, incy);
  });
}

}  // namespace

bool set_tiled_blas(bool on) { return g_tiled.exchange(on); }

}  // namespace ntks::util

// The symbols LibTorch imports (Fortran calling convention, no hidden string
// lengths: LibTorch declares them so, and OpenBLAS ignores them).
extern "C" {

void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc) {
  static const auto gemm = ntks::util::real<ntks::util::Gemm<float>>("sgemm_");
  ntks::util::tiled_gemm(gemm, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc) {
  static const auto gemm = ntks::util::real<ntks::util::Gemm<double>>("dgemm_");
  ntks::util::tiled_gemm(gemm, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemv_(const char* trans, const int* m, const int* n, const float* alpha, const float* a, const int* lda,
            const float* x, const int* incx, const float* beta, float* y, const int* incy) {
  static const auto gemv = ntks::util::real<ntks::util::Gemv<float>>("sgemv_");
  ntks::util::tiled_gemv(gemv, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void dgemv_(const char* trans, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
            const double* x, const int* incx, const double* beta, double* y, const int* incy) {
  static const auto gemv = ntks::util::real<ntks::util::Gemv<double>>("dgemv_");
  ntks::util::tiled_gemv(gemv, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

}  // extern "C"

namespace ntks::util {

bool blas_calls_tiled() {
  // Ours only if the dynamic linker bound LibTorch's sgemm_ to this definition.
  return dlsym(RTLD_DEFAULT, "sgemm_") == reinterpret_cast<void*>(&sgemm_) && g_tiled.load();
}

}  // namespace ntks::util
