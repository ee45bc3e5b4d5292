#pragma once
// The deterministic stream of random numbers that the loop hands to every ask.

#include <cstdint>

namespace taskmaster {

/// A value a learner may use as its only source of randomness. The loop
/// derives it from the run's seed and the number of the ask, so a replay
/// hands the learner exactly the same values.
using Entropy = std::uint64_t;

/// The entropy of the `step`-th ask of a run seeded with `seed`.
/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014) over seed and step: a pure function, so a resumed
/// run continues the stream without storing any generator state.
constexpr Entropy entropy_for(std::uint64_t seed, std::uint64_t step) noexcept {
  std::uint64_t z = seed + (step + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Maps an entropy value to a double uniformly distributed in [0, 1).
constexpr double unit_interval(Entropy e) noexcept {
  return static_cast<double>(e >> 11) * 0x1.0p-53;
}

}  // namespace taskmaster
