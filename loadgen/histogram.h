// An HDR-style latency histogram: log-linear buckets over nanoseconds, constant-time Record,
// mergeable, with a relative error below 1% (1/128) at every magnitude.
//
//   simq::loadgen::Histogram h;
//   h.Record(receive_ns - stamp_ns);
//   ...
//   total.Merge(h);
//   double p99_us = total.Percentile(99.0) / 1e3;
//
// Layout (as in HdrHistogram with 7 sub-bucket bits): values 0..127 have a bucket each; above
// that every power of two [2^k, 2^(k+1)) is split into 128 equal buckets. Values up to 2^40 ns
// (18 minutes) are kept; larger values count in the top bucket and still set max(). 4,480
// counters, 35 KB: one per loadgen thread plus one per reporting interval, never per message.
//
// Not thread-safe: each thread records into its own and the reporter merges them.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace simq::loadgen {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128
  static constexpr int kMaxBits = 40;
  static constexpr uint64_t kMaxTrackable = (uint64_t{1} << kMaxBits) - 1;
  static constexpr size_t kCounters = (kMaxBits - kSubBucketBits + 1) * kSubBuckets;

  Histogram() : counts_(kCounters, 0) {}

  void Record(uint64_t value) {
    ++counts_[Index(value)];
    ++count_;
    sum_ += value;
    if (value > max_) max_ = value;
    if (value < min_) min_ = value;
  }

  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ ? max_ : 0; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The value below which `percent` (0..100] of the recorded values fall: the upper edge of the
  // bucket holding that rank, clamped to [min, max] so that Percentile(100) == max(). 0 when
  // empty.
  uint64_t Percentile(double percent) const;

  // Bucket of a value, exposed for tests.
  static size_t Index(uint64_t value) {
    if (value > kMaxTrackable) value = kMaxTrackable;
    if (value < kSubBuckets) return static_cast<size_t>(value);
    // value in [2^k, 2^(k+1)), k >= 7: bucket group g = k - 6 (>= 1), kSubBuckets wide each.
    const int k = 63 - std::countl_zero(value);
    const int shift = k - kSubBucketBits;  // >= 0
    const uint64_t sub = value >> shift;   // in [128, 256)
    return static_cast<size_t>((shift + 1) * kSubBuckets + (sub - kSubBuckets));
  }
  // Largest value that lands in bucket `index`.
  static uint64_t UpperEdge(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace simq::loadgen
