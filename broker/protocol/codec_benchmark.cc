// Codec micro-benchmarks: the per-message work of the hot path (PUBLISH decode and encode,
// framing, Variable Byte Integers, a typical MQTT 5 property block).
//
//   bazel run -c opt //broker/protocol:codec_benchmark
//
// Arguments of the PUBLISH benchmarks: protocol level (4 = 3.1.1, 5 = 5.0 with a few
// properties), QoS (0 or 1), payload size in bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/properties.h"
#include "broker/protocol/types.h"
#include "broker/protocol/wire.h"

namespace simq::protocol {
namespace {

constexpr StringPair kUserProperties[] = {{"trace-id", "4bf92f3577b34da6"}, {"tenant", "acme"}};

// The properties of a typical MQTT 5 application message.
Properties TypicalProperties() {
  Properties p;
  p.message_expiry_interval = 3600;
  p.content_type = "application/json";
  p.user_properties = UserProperties(kUserProperties);
  return p;
}

struct PublishCase {
  ProtocolVersion version;
  std::string payload;
  PublishPacket packet;
};

PublishCase MakeCase(const benchmark::State& state) {
  PublishCase c;
  c.version = static_cast<ProtocolVersion>(state.range(0));
  c.payload.assign(static_cast<size_t>(state.range(2)), 'p');
  c.packet.topic = "factory/line-3/sensor/temperature";
  c.packet.qos = static_cast<QoS>(state.range(1));
  c.packet.packet_id = c.packet.qos == QoS::kAtMostOnce ? 0 : 4711;
  c.packet.payload = c.payload;
  if (IsV5(c.version)) c.packet.properties = TypicalProperties();
  return c;
}

void PublishArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"level", "qos", "payload"});
  for (int64_t level : {4, 5}) {
    for (int64_t qos : {0, 1}) {
      for (int64_t size : {16, 1024}) b->Args({level, qos, size});
    }
  }
}

void BM_DecodePublish(benchmark::State& state) {
  const PublishCase c = MakeCase(state);
  std::string bytes;
  Encode(c.packet, c.version, &bytes);
  for (auto _ : state) {
    auto header = ParseFixedHeader(bytes, kMaxPacketSize);
    auto publish = DecodePublish(MakeFrame(**header, bytes), c.version);
    benchmark::DoNotOptimize(publish);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_DecodePublish)->Apply(PublishArgs);

void BM_EncodePublish(benchmark::State& state) {
  const PublishCase c = MakeCase(state);
  std::string out;
  for (auto _ : state) {
    out.clear();
    size_t offset = Encode(c.packet, c.version, &out);
    benchmark::DoNotOptimize(offset);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodePublish)->Apply(PublishArgs);

// Encode once, then patch the Packet Identifier per receiver: the fan-out path.
void BM_PatchPacketId(benchmark::State& state) {
  const PublishCase c = MakeCase(state);
  std::string shared;
  const size_t offset = Encode(c.packet, c.version, &shared);
  uint16_t id = 1;
  for (auto _ : state) {
    std::string copy = shared;
    SetPacketId(copy.data(), offset, id++);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PatchPacketId)->Args({5, 1, 1024})->ArgNames({"level", "qos", "payload"});

void BM_ParseFixedHeader(benchmark::State& state) {
  // Remaining Length of 1, 2, 3 or 4 bytes; only the header bytes are needed.
  static constexpr uint32_t kLengths[] = {100, 1000, 100'000, 10'000'000};
  const uint32_t length = kLengths[state.range(0) - 1];
  std::string header(5, '\0');
  Writer w(header.data());
  w.Byte(0x32);
  w.VarInt(length);
  header.resize(static_cast<size_t>(w.position() - header.data()));
  for (auto _ : state) {
    auto h = ParseFixedHeader(header, kMaxPacketSize);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseFixedHeader)->DenseRange(1, 4)->ArgName("length_bytes");

void BM_DecodeVarInt(benchmark::State& state) {
  static constexpr uint32_t kValues[] = {100, 10'000, 1'000'000, 200'000'000};
  const uint32_t value = kValues[state.range(0) - 1];
  char bytes[4];
  Writer w(bytes);
  w.VarInt(value);
  const std::string_view encoded(bytes, static_cast<size_t>(w.position() - bytes));
  for (auto _ : state) {
    uint32_t decoded = 0;
    size_t length = 0;
    VarIntStatus status = DecodeVarInt(encoded, &decoded, &length);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(decoded);
    benchmark::DoNotOptimize(length);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeVarInt)->DenseRange(1, 4)->ArgName("bytes");

void BM_DecodeProperties(benchmark::State& state) {
  const Properties props = TypicalProperties();
  std::string block(PropertiesWireSize(props), '\0');
  Writer w(block.data());
  EncodeProperties(props, PropertiesSize(props), w);
  for (auto _ : state) {
    Reader r(block);
    Properties decoded;
    absl::Status status = DecodeProperties(r, PropertyContext::kPublish, &decoded);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_DecodeProperties);

// Decoding leaves user properties in wire form; this is what reading them costs.
void BM_WalkUserProperties(benchmark::State& state) {
  const Properties props = TypicalProperties();
  std::string block(PropertiesWireSize(props), '\0');
  Writer w(block.data());
  EncodeProperties(props, PropertiesSize(props), w);
  Reader r(block);
  Properties decoded;
  if (!DecodeProperties(r, PropertyContext::kPublish, &decoded).ok()) {
    state.SkipWithError("property block did not decode");
    return;
  }
  for (auto _ : state) {
    size_t bytes = 0;
    decoded.user_properties.ForEach(
        [&bytes](std::string_view k, std::string_view v) { bytes += k.size() + v.size(); });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WalkUserProperties);

}  // namespace
}  // namespace simq::protocol
