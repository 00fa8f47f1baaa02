#include "loadgen/sequence.h"

#include <algorithm>
#include <iterator>

namespace simq::loadgen {

SequenceTracker::Result SequenceTracker::Observe(uint64_t seq) {
  ++received_;
  if (seq == next_) {
    ++next_;
    return Result::kInOrder;
  }
  if (seq > next_) {
    gaps_.emplace(next_, seq);
    missing_ += seq - next_;
    next_ = seq + 1;
    if (gaps_.size() > kMaxGaps) {
      auto oldest = gaps_.begin();
      written_off_below_ = oldest->second;
      gaps_.erase(oldest);
      degraded_ = true;
    }
    return Result::kGap;
  }
  // seq < next_: a late arrival into an open gap, or a duplicate.
  auto it = gaps_.upper_bound(seq);
  if (it != gaps_.begin()) {
    --it;
    const uint64_t first = it->first, last = it->second;
    if (seq < last) {
      gaps_.erase(it);
      if (first < seq) gaps_.emplace(first, seq);
      if (seq + 1 < last) gaps_.emplace(seq + 1, last);
      --missing_;
      ++reorders_;
      return Result::kLate;
    }
  }
  if (seq < written_off_below_) {
    // Possibly from a gap we no longer track: count it as late rather than accuse the broker.
    ++reorders_;
    return Result::kLate;
  }
  ++duplicates_;
  return Result::kDuplicate;
}

uint64_t SequenceTracker::UniqueBelow(uint64_t limit) const {
  if (limit >= next_) return next_ - missing_;
  uint64_t missing = 0;
  for (const auto& [first, last] : gaps_) {
    if (first >= limit) break;
    missing += std::min(last, limit) - first;
  }
  return limit - std::min(limit, missing);
}

SharedSequenceSet::SharedSequenceSet(uint32_t publishers) : streams_(publishers) {
  for (Stream& s : streams_) {
    s.chunks = std::make_unique<std::atomic<std::atomic<uint64_t>*>[]>(kChunks);
    for (size_t i = 0; i < kChunks; ++i) s.chunks[i].store(nullptr, std::memory_order_relaxed);
  }
}

SharedSequenceSet::~SharedSequenceSet() {
  for (Stream& s : streams_) {
    for (size_t i = 0; i < kChunks; ++i) delete[] s.chunks[i].load(std::memory_order_relaxed);
  }
}

std::atomic<uint64_t>* SharedSequenceSet::Chunk(Stream& s, size_t index) {
  std::atomic<uint64_t>* chunk = s.chunks[index].load(std::memory_order_acquire);
  if (chunk != nullptr) return chunk;
  std::lock_guard<std::mutex> lock(allocate_mu_);
  chunk = s.chunks[index].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    constexpr size_t kWords = (size_t{1} << kChunkBits) / 64;
    chunk = new std::atomic<uint64_t>[kWords];
    for (size_t i = 0; i < kWords; ++i) chunk[i].store(0, std::memory_order_relaxed);
    s.chunks[index].store(chunk, std::memory_order_release);
  }
  return chunk;
}

bool SharedSequenceSet::Mark(uint32_t publisher, uint64_t seq) {
  if (publisher >= streams_.size()) return false;
  Stream& s = streams_[publisher];
  const size_t chunk_index = static_cast<size_t>(seq >> kChunkBits);
  if (chunk_index >= kChunks) return false;
  const uint64_t bit = seq & ((uint64_t{1} << kChunkBits) - 1);
  const uint64_t mask = uint64_t{1} << (bit % 64);
  const uint64_t before = Chunk(s, chunk_index)[bit / 64].fetch_or(mask, std::memory_order_relaxed);
  if (before & mask) return false;
  s.unique.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace simq::loadgen
