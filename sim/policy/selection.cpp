#include "sim/policy/selection.hpp"

#include <H5Cpp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hgca {

namespace {

// SplitMix64: a tiny generator whose output is fixed by the seed on every platform (std:: distributions
// are not), so per-head draws are the same everywhere.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }  // (0, 1)
  double normal() {  // Box-Muller, one value per call
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace

std::vector<double> read_selection_profile(const std::string& path, const ModelShape& model) {
  H5::Exception::dontPrint();
  std::vector<double> src;
  hsize_t dims[2] = {0, 0};
  try {
    H5::H5File f(path, H5F_ACC_RDONLY);
    if (!f.nameExists("fraction"))
      throw std::runtime_error(path + ": selection profile has no dataset 'fraction'; expected [layers][heads] float64");
    H5::DataSet ds = f.openDataSet("fraction");
    H5::DataSpace sp = ds.getSpace();
    if (sp.getSimpleExtentNdims() != 2)
      throw std::runtime_error(path + ": 'fraction' must be 2-D [layers][heads]");
    sp.getSimpleExtentDims(dims);
    if (dims[0] == 0 || dims[1] == 0) throw std::runtime_error(path + ": 'fraction' is empty");
    src.resize(dims[0] * dims[1]);
    ds.read(src.data(), H5::PredType::NATIVE_DOUBLE);
  } catch (const H5::Exception& e) {
    throw std::runtime_error(path + ": cannot read selection profile (" + e.getDetailMsg() + ")");
  }
  for (double v : src)
    if (!(v >= 0.0 && v <= 1.0))
      throw std::runtime_error(path + ": 'fraction' holds a value outside [0, 1] (or NaN)");
  const int L = model.layers, H = model.q_heads;
  const int Ls = static_cast<int>(dims[0]), Hs = static_cast<int>(dims[1]);
  std::vector<double> out(static_cast<size_t>(L) * H);
  for (int l = 0; l < L; ++l) {
    const int ls = static_cast<int>(static_cast<int64_t>(l) * Ls / L);
    for (int h = 0; h < H; ++h) {
      const int hs = static_cast<int>(static_cast<int64_t>(h) * Hs / H);
      out[static_cast<size_t>(l) * H + h] = src[static_cast<size_t>(ls) * Hs + hs];
    }
  }
  return out;
}

SelectionModel::SelectionModel(const SelectionSpec& spec, const ModelShape& model, uint64_t seed)
    : spec_(spec), layers_(model.layers), q_heads_(model.q_heads), group_(model.q_heads / model.kv_heads) {
  const size_t n = static_cast<size_t>(layers_) * q_heads_;
  switch (spec.source) {
    case SelectionSource::Fraction:
      fraction_.assign(n, spec.fraction);
      break;
    case SelectionSource::TopK:
      fraction_.assign(n, -1.0);
      break;
    case SelectionSource::Distribution: {
      SplitMix64 rng{seed ^ 0x5E1EC7104ull};
      fraction_.resize(n);
      for (double& f : fraction_)
        f = std::clamp(spec.median_fraction * std::exp(spec.sigma * rng.normal()), spec.min_fraction,
                       spec.max_fraction);
      break;
    }
    case SelectionSource::Profile:
      fraction_ = read_selection_profile(spec.profile_path, model);
      break;
  }
}

double SelectionModel::entries(int layer, int head, double cpu_entries) const {
  if (cpu_entries <= 0) return 0;
  if (spec_.source == SelectionSource::TopK) return std::min<double>(static_cast<double>(spec_.top_k), cpu_entries);
  return std::ceil(fraction_[static_cast<size_t>(layer) * q_heads_ + head] * cpu_entries);
}

double SelectionModel::group_entries(int layer, int kv_head, double cpu_entries) const {
  double m = 0;
  for (int h = kv_head * group_; h < (kv_head + 1) * group_; ++h) m = std::max(m, entries(layer, h, cpu_entries));
  return m;
}

}  // namespace hgca
