// The 16 bytes at the start of every payload the load generator sends: when the message left
// the publisher, which publisher sent it and its sequence number in that publisher's stream.
// Receivers derive latency (receive time − stamp time), and loss, duplicates and reordering
// (per-publisher sequence numbers, see sequence.h), from it alone.
//
//   char payload[64];
//   WriteStamp(payload, Stamp{now_ns, publisher, seq});
//   std::optional<Stamp> s = ReadStamp(std::string_view(payload, 64));
//
// Layout, little-endian: u64 send time in nanoseconds (CLOCK_MONOTONIC by default: sender and
// receiver share one machine's clock), then u64 = publisher << 40 | sequence. 24 bits of
// publisher (16 million) and 40 bits of sequence (a publisher at 3 M msg/s wraps after 4 days).
// Bytes after the stamp are filler (kFiller).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace simq::loadgen {

inline constexpr size_t kStampSize = 16;
inline constexpr uint32_t kMaxPublishers = 1u << 24;
inline constexpr uint64_t kSequenceMask = (uint64_t{1} << 40) - 1;
inline constexpr char kFiller = 'x';

struct Stamp {
  uint64_t time_ns = 0;
  uint32_t publisher = 0;
  uint64_t sequence = 0;
  friend bool operator==(const Stamp&, const Stamp&) = default;
};

// Writes the 16 stamp bytes at `out`. `publisher` < kMaxPublishers, `sequence` <= kSequenceMask.
inline void WriteStamp(char* out, const Stamp& stamp) {
  static_assert(std::endian::native == std::endian::little, "stamp layout assumes little-endian");
  const uint64_t id = (uint64_t{stamp.publisher} << 40) | (stamp.sequence & kSequenceMask);
  std::memcpy(out, &stamp.time_ns, 8);
  std::memcpy(out + 8, &id, 8);
}

// The stamp at the start of `payload`; nullopt if the payload is too short to hold one (a
// message some other client sent).
inline std::optional<Stamp> ReadStamp(std::string_view payload) {
  if (payload.size() < kStampSize) return std::nullopt;
  Stamp s;
  uint64_t id = 0;
  std::memcpy(&s.time_ns, payload.data(), 8);
  std::memcpy(&id, payload.data() + 8, 8);
  s.publisher = static_cast<uint32_t>(id >> 40);
  s.sequence = id & kSequenceMask;
  return s;
}

}  // namespace simq::loadgen
