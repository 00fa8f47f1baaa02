#include "loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace simq::loadgen {

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kCounters; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::UpperEdge(size_t index) {
  if (index < kSubBuckets) return index;
  const size_t shift = index / kSubBuckets - 1;
  const uint64_t sub = kSubBuckets + index % kSubBuckets;
  return ((sub + 1) << shift) - 1;
}

uint64_t Histogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  // Rank of the wanted value, 1-based: the smallest value with at least `percent` % at or below.
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kCounters; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(UpperEdge(i), min_, max_);
  }
  return max_;
}

}  // namespace simq::loadgen
