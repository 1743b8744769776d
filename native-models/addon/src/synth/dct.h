// Fast DCT-II / DCT-III of any length (via a complex FFT; Bluestein's chirp for lengths that are not
// powers of two), and a 2-D screened Poisson solver with Neumann boundaries built on them.
#pragma once
#include <complex>
#include <vector>

namespace rr {

// One transform length. Dct2: X[k] = sum_n x[n] cos(pi k (2n+1) / 2N). Dct3 is its exact inverse.
class Dct {
 public:
  explicit Dct(int n);
  int Size() const { return n_; }
  // In place; `scratch` must hold Size() complex values (one per thread).
  void Dct2(double* x, std::complex<double>* scratch) const;
  void Dct3(double* x, std::complex<double>* scratch) const;

 private:
  void Fft(std::complex<double>* a, bool inverse) const;
  void Radix2(std::complex<double>* a, int m, bool inverse) const;
  int n_, m_;  // m_: power-of-two working length (n_ itself, or >= 2n-1 for Bluestein)
  std::vector<std::complex<double>> twiddle_;    // e^{-i pi k / 2N}
  std::vector<std::complex<double>> roots_;      // radix-2 roots of length m_
  std::vector<std::complex<double>> chirp_;      // Bluestein: e^{-i pi k^2 / n}
  std::vector<std::complex<double>> chirpFft_;   // FFT of the conjugate chirp, zero-padded to m_
};

// Finds x minimising sum over edges of weight^2 (grad x - g)^2 + sum (x - base)^2, on a width x height
// grid with Neumann boundaries. gx[y*w+x] = wanted x(x+1,y) - x(x,y) (last column ignored), gy likewise.
std::vector<float> SolveScreenedPoisson(const float* base, const float* gx, const float* gy, int width, int height,
                                        float weight, int threads);

}  // namespace rr
