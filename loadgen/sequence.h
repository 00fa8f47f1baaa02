// Loss, duplicate and reordering detection over per-publisher sequence numbers (stamp.h).
//
// `SequenceTracker` follows one complete stream: everything one publisher sent, as one
// subscriber receives it (fan-in, fan-out, pairs). It keeps the next expected number and the
// gaps still open below it, so a late arrival is told apart from a duplicate:
//
//   SequenceTracker t;
//   t.Observe(0); t.Observe(2);   // kInOrder, kGap: 1 is missing
//   t.Observe(1);                 // kLate: counted as a reorder, the gap closes
//   t.Observe(1);                 // kDuplicate
//   t.Lost(/*sent=*/3) == 0
//
// `SharedSequenceSet` is for streams split between receivers (a `$share` group, or one
// publisher's topics spread over several subscribers): one atomic bitmap per publisher that
// every receiving thread marks, so a message seen by two members is a duplicate. Reordering is
// then judged per receiver (`SplitOrder`): each member's subsequence must still ascend.
//
// SequenceTracker is single-threaded (owned by the subscriber's thread). SharedSequenceSet is
// thread-safe (lock-free marks; chunks allocated on first use).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace simq::loadgen {

class SequenceTracker {
 public:
  enum class Result { kInOrder, kGap, kLate, kDuplicate };

  // Open gaps kept at most; beyond it the oldest gap is written off as lost for good (and a late
  // arrival from it is then counted as a reorder, not a duplicate: `degraded()` says so).
  static constexpr size_t kMaxGaps = 1 << 16;

  Result Observe(uint64_t seq);

  uint64_t received() const { return received_; }  // every arrival, duplicates included
  uint64_t unique() const { return received_ - duplicates_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t reorders() const { return reorders_; }
  uint64_t next_expected() const { return next_; }
  // Numbers below next_expected() not (yet) received.
  uint64_t missing() const { return missing_; }
  bool degraded() const { return degraded_; }
  // Distinct numbers received below `limit`.
  uint64_t UniqueBelow(uint64_t limit) const;
  // Messages of the first `sent` that never arrived.
  uint64_t Lost(uint64_t sent) const {
    const uint64_t u = unique();
    return sent > u ? sent - u : 0;
  }

 private:
  uint64_t next_ = 0;
  uint64_t received_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t reorders_ = 0;
  uint64_t missing_ = 0;
  uint64_t written_off_below_ = 0;  // gaps below this were dropped from gaps_
  bool degraded_ = false;
  std::map<uint64_t, uint64_t> gaps_;  // [first, last) of numbers not yet received
};

// Which numbers of each publisher have been seen by anyone.
class SharedSequenceSet {
 public:
  explicit SharedSequenceSet(uint32_t publishers);
  ~SharedSequenceSet();

  // True the first time `seq` of `publisher` is marked. Thread-safe.
  bool Mark(uint32_t publisher, uint64_t seq);
  // Distinct numbers marked for `publisher`.
  uint64_t unique(uint32_t publisher) const {
    return streams_[publisher].unique.load(std::memory_order_relaxed);
  }

  static constexpr int kChunkBits = 20;       // 1 Mi sequence numbers (128 KiB) per chunk
  static constexpr size_t kChunks = 1 << 14;  // 16 Gi numbers per publisher

 private:
  struct Stream {
    std::atomic<uint64_t> unique{0};
    std::unique_ptr<std::atomic<std::atomic<uint64_t>*>[]> chunks;  // kChunks, lazily filled
  };
  std::atomic<uint64_t>* Chunk(Stream& s, size_t index);

  std::vector<Stream> streams_;
  std::mutex allocate_mu_;
};

// Per-receiver ordering check of a split stream: the numbers one member gets from one publisher
// must ascend.
class SplitOrder {
 public:
  // True if `seq` is below the last number seen from `publisher` (a reorder).
  bool Observe(uint32_t publisher, uint64_t seq) {
    if (publisher >= last_.size()) last_.resize(publisher + 1, 0);
    uint64_t& last = last_[publisher];  // stored + 1; 0 = nothing yet
    const bool reordered = last != 0 && seq + 1 < last;
    if (seq + 1 > last) last = seq + 1;
    return reordered;
  }

 private:
  std::vector<uint64_t> last_;
};

}  // namespace simq::loadgen
