// DCT-II/III by Makhoul's reordering into one complex FFT of the same length, and the screened Poisson
// solve they diagonalise: the Neumann Laplacian's eigenvectors are the DCT-II basis.
#include "synth/dct.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "common/parallel.h"

namespace rr {
namespace {
const double kPi = 3.14159265358979323846;
bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }
}  // namespace

Dct::Dct(int n) : n_(n) {
  if (n < 1) throw std::invalid_argument("DCT length must be >= 1");
  twiddle_.resize(n);
  for (int k = 0; k < n; ++k) twiddle_[k] = std::polar(1.0, -kPi * k / (2.0 * n));
  if (IsPowerOfTwo(n)) {
    m_ = n;
  } else {
    m_ = 1;
    while (m_ < 2 * n - 1) m_ *= 2;
    chirp_.resize(n);
    // k^2 mod 2n keeps the angle exact for large k.
    for (int k = 0; k < n; ++k) chirp_[k] = std::polar(1.0, -kPi * static_cast<double>((static_cast<long long>(k) * k) % (2LL * n)) / n);
  }
  roots_.resize(m_ / 2 > 0 ? m_ / 2 : 1);
  for (int k = 0; k < m_ / 2; ++k) roots_[k] = std::polar(1.0, -2.0 * kPi * k / m_);
  if (!chirp_.empty()) {
    chirpFft_.assign(m_, 0.0);
    chirpFft_[0] = std::conj(chirp_[0]);
    for (int k = 1; k < n; ++k) chirpFft_[k] = chirpFft_[m_ - k] = std::conj(chirp_[k]);
    Radix2(chirpFft_.data(), m_, false);
  }
}

void Dct::Radix2(std::complex<double>* a, int m, bool inverse) const {
  for (int i = 1, j = 0; i < m; ++i) {
    int bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (int len = 2; len <= m; len <<= 1) {
    const int stride = m / len;
    for (int i = 0; i < m; i += len)
      for (int k = 0; k < len / 2; ++k) {
        std::complex<double> w = roots_[k * stride];
        if (inverse) w = std::conj(w);
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
  }
}

// Unnormalised DFT of length n_ (inverse: conjugate exponent, no 1/n).
void Dct::Fft(std::complex<double>* a, bool inverse) const {
  if (m_ == n_) { Radix2(a, n_, inverse); return; }
  // Bluestein: the DFT as a convolution with a chirp, done with power-of-two FFTs.
  std::vector<std::complex<double>> buf(m_, 0.0);
  for (int k = 0; k < n_; ++k) buf[k] = (inverse ? std::conj(a[k]) : a[k]) * chirp_[k];
  Radix2(buf.data(), m_, false);
  for (int k = 0; k < m_; ++k) buf[k] *= chirpFft_[k];
  Radix2(buf.data(), m_, true);
  for (int k = 0; k < n_; ++k) {
    std::complex<double> v = buf[k] * chirp_[k] / static_cast<double>(m_);
    a[k] = inverse ? std::conj(v) : v;
  }
}

void Dct::Dct2(double* x, std::complex<double>* v) const {
  const int n = n_;
  for (int i = 0; 2 * i < n; ++i) v[i] = x[2 * i];
  for (int i = 0; 2 * i + 1 < n; ++i) v[n - 1 - i] = x[2 * i + 1];
  Fft(v, false);
  for (int k = 0; k < n; ++k) x[k] = (v[k] * twiddle_[k]).real();
}

void Dct::Dct3(double* x, std::complex<double>* v) const {
  const int n = n_;
  // Inverse of Dct2: rebuild the FFT of the reordered sequence from X[k] and X[n-k].
  v[0] = x[0];
  for (int k = 1; k < n; ++k) v[k] = std::conj(twiddle_[k]) * std::complex<double>(x[k], -x[n - k]);
  Fft(v, true);
  for (int i = 0; 2 * i < n; ++i) x[2 * i] = v[i].real() / n;
  for (int i = 0; 2 * i + 1 < n; ++i) x[2 * i + 1] = v[n - 1 - i].real() / n;
}

std::vector<float> SolveScreenedPoisson(const float* base, const float* gx, const float* gy, int w, int h, float weight,
                                        int threads) {
  const double w2 = static_cast<double>(weight) * weight;
  std::vector<double> f(static_cast<size_t>(w) * h);
  // Right-hand side: base + w^2 * D^T g, where D^T is minus the divergence with zero flux across the border.
  ParallelFor(h, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        double d = 0.0;
        if (x > 0) d += gx[i - 1];
        if (x < w - 1) d -= gx[i];
        if (y > 0) d += gy[i - w];
        if (y < h - 1) d -= gy[i];
        f[i] = base[i] + w2 * d;
      }
  });
  Dct rows(w), cols(h);
  auto transform = [&](bool forward) {
    ParallelFor(h, threads, [&](int y0, int y1) {
      std::vector<std::complex<double>> scratch(w);
      for (int y = y0; y < y1; ++y) forward ? rows.Dct2(&f[static_cast<size_t>(y) * w], scratch.data()) : rows.Dct3(&f[static_cast<size_t>(y) * w], scratch.data());
    });
    ParallelFor(w, threads, [&](int x0, int x1) {
      std::vector<std::complex<double>> scratch(h);
      std::vector<double> col(h);
      for (int x = x0; x < x1; ++x) {
        for (int y = 0; y < h; ++y) col[y] = f[static_cast<size_t>(y) * w + x];
        forward ? cols.Dct2(col.data(), scratch.data()) : cols.Dct3(col.data(), scratch.data());
        for (int y = 0; y < h; ++y) f[static_cast<size_t>(y) * w + x] = col[y];
      }
    });
  };
  transform(true);
  // 2 cos(pi x / w) once per column, not once per pixel (the same values, added in the same order).
  std::vector<double> cx(w);
  for (int x = 0; x < w; ++x) cx[x] = 2.0 * std::cos(kPi * x / w);
  for (int y = 0; y < h; ++y) {
    const double ly = 2.0 - 2.0 * std::cos(kPi * y / h);
    for (int x = 0; x < w; ++x) f[static_cast<size_t>(y) * w + x] /= 1.0 + w2 * (ly + 2.0 - cx[x]);
  }
  transform(false);
  return std::vector<float>(f.begin(), f.end());
}

}  // namespace rr
