// Topic matching micro-benchmarks: SubscriptionTrie::Match is on the path of every PUBLISH,
// TopicMap::Match on the path of every SUBSCRIBE with retained messages.
//
//   bazel run -c opt //broker/topic:trie_benchmark
//
// The trie holds 100,000 wildcard-heavy filters for 25,000 devices (per device i:
// "device/i/+/temp", "device/i/#", "+/i/status", "device/i/sensor/temp"), plus 1,000 sessions
// on three fan-out filters ("alerts/+", "alerts/#", "+/fire"). The retained index holds 100,000
// topics "device/i/sensor/{temp,humidity,pressure,battery}". Both are built once, outside the
// timed loops. The `matches` counter is the number of callbacks per iteration.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"

#include "broker/topic/subscription_trie.h"
#include "broker/topic/topic_map.h"

namespace simq::topic {
namespace {

constexpr int kDevices = 25'000;
constexpr int kFanOutSessions = 1'000;
constexpr const char* kSensors[] = {"temp", "humidity", "pressure", "battery"};

Subscriber Sub(uint64_t session) {
  Subscriber s;
  s.session = session;
  s.worker = static_cast<uint32_t>(session % 8);
  return s;
}

SubscriptionTrie& Trie100k() {
  static SubscriptionTrie trie;
  static const bool built = [] {
    uint64_t session = 0;
    for (int i = 0; i < kDevices; ++i) {
      trie.Subscribe(absl::StrCat("device/", i, "/+/temp"), Sub(++session));
      trie.Subscribe(absl::StrCat("device/", i, "/#"), Sub(++session));
      trie.Subscribe(absl::StrCat("+/", i, "/status"), Sub(++session));
      trie.Subscribe(absl::StrCat("device/", i, "/sensor/temp"), Sub(++session));
    }
    for (int i = 0; i < kFanOutSessions; ++i) {
      const char* filter = i % 4 < 2 ? "alerts/+" : i % 4 == 2 ? "alerts/#" : "+/fire";
      trie.Subscribe(filter, Sub(++session));
    }
    return true;
  }();
  benchmark::DoNotOptimize(built);
  return trie;
}

// `count` topics made by `make(device)` for devices spread over the whole trie, so that the
// loop does not keep hitting one hot path.
template <typename Make>
std::vector<std::string> Topics(int count, Make make) {
  std::vector<std::string> topics;
  for (int i = 0; i < count; ++i) topics.push_back(make((i * 7919) % kDevices));
  return topics;
}

void RunMatch(benchmark::State& state, const std::vector<std::string>& topics) {
  SubscriptionTrie& trie = Trie100k();
  uint64_t matches = 0;
  size_t next = 0;
  for (auto _ : state) {
    trie.Match(
        topics[next], [&](const Subscriber& s) { matches += s.session != 0; },
        [&](SharedGroup& g) { ++matches; });
    if (++next == topics.size()) next = 0;
  }
  benchmark::DoNotOptimize(matches);
  state.SetItemsProcessed(state.iterations());
  state.counters["matches"] =
      benchmark::Counter(static_cast<double>(matches) / static_cast<double>(state.iterations()));
}

// 3 matches: "device/i/+/temp", "device/i/#", "device/i/sensor/temp". Arg: how many distinct
// devices the loop cycles through (1: one hot path in cache; 16384: mostly cache misses).
void BM_TrieMatchFew(benchmark::State& state) {
  RunMatch(state, Topics(static_cast<int>(state.range(0)),
                         [](int i) { return absl::StrCat("device/", i, "/sensor/temp"); }));
}
BENCHMARK(BM_TrieMatchFew)->ArgName("topics")->Arg(1)->Arg(1024)->Arg(16384);

// 1 match through the root '+' branch: "+/i/status".
void BM_TrieMatchRootPlus(benchmark::State& state) {
  RunMatch(state, Topics(1024, [](int i) { return absl::StrCat("gateway/", i, "/status"); }));
}
BENCHMARK(BM_TrieMatchRootPlus);

// No match: a miss at the second level of both the literal and the '+' branch.
void BM_TrieMatchNone(benchmark::State& state) {
  RunMatch(state, Topics(1024, [](int i) { return absl::StrCat("device/x", i, "/sensor/temp"); }));
}
BENCHMARK(BM_TrieMatchNone);

// 1,000 matches on three filters (fan-out).
void BM_TrieMatchMany(benchmark::State& state) {
  RunMatch(state, {"alerts/fire"});
}
BENCHMARK(BM_TrieMatchMany);

// A '$SYS' topic: the root wildcards are skipped, nothing matches.
void BM_TrieMatchDollar(benchmark::State& state) {
  RunMatch(state, {"$SYS/broker/load/messages/received/1min"});
}
BENCHMARK(BM_TrieMatchDollar);

// One Subscribe plus one Unsubscribe per iteration on the 100k trie. Arg 0: a filter that adds
// one node under an existing path; arg 1: a new three-level branch, created and pruned.
void BM_TrieSubscribeUnsubscribe(benchmark::State& state) {
  SubscriptionTrie& trie = Trie100k();
  const bool new_branch = state.range(0) == 1;
  const std::vector<std::string> filters = Topics(1024, [&](int i) {
    return new_branch ? absl::StrCat("room/", i, "/+") : absl::StrCat("device/", i, "/+/humidity");
  });
  const size_t nodes_before = trie.node_count();
  size_t next = 0;
  for (auto _ : state) {
    trie.Subscribe(filters[next], Sub(1));
    trie.Unsubscribe(filters[next], 1);
    if (++next == filters.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations() * 2);
  if (trie.node_count() != nodes_before) state.SkipWithError("Unsubscribe did not prune");
}
BENCHMARK(BM_TrieSubscribeUnsubscribe)->ArgName("new_branch")->Arg(0)->Arg(1);

const TopicMap<int>& Retained100k() {
  static TopicMap<int> map;
  static const bool built = [] {
    int value = 0;
    for (int i = 0; i < kDevices; ++i) {
      for (const char* sensor : kSensors) {
        map.Set(absl::StrCat("device/", i, "/sensor/", sensor), ++value);
      }
    }
    return true;
  }();
  benchmark::DoNotOptimize(built);
  return map;
}

void RunRetainedMatch(benchmark::State& state, std::string_view filter) {
  const TopicMap<int>& map = Retained100k();
  uint64_t matches = 0;
  for (auto _ : state) {
    map.Match(filter, [&](std::string_view topic, const int& v) { matches += v != 0; });
  }
  benchmark::DoNotOptimize(matches);
  state.SetItemsProcessed(static_cast<int64_t>(matches));
  state.counters["matches"] =
      benchmark::Counter(static_cast<double>(matches) / static_cast<double>(state.iterations()));
}

// 25,000 of the 100,000 retained topics.
void BM_RetainedMatchWide(benchmark::State& state) {
  RunRetainedMatch(state, "device/+/sensor/temp");
}
BENCHMARK(BM_RetainedMatchWide)->Unit(benchmark::kMicrosecond);

// 4 of the 100,000.
void BM_RetainedMatchNarrow(benchmark::State& state) {
  RunRetainedMatch(state, "device/4242/#");
}
BENCHMARK(BM_RetainedMatchNarrow);

// All 100,000 ("#").
void BM_RetainedMatchAll(benchmark::State& state) {
  RunRetainedMatch(state, "#");
}
BENCHMARK(BM_RetainedMatchAll)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace simq::topic
