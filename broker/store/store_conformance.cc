#include "broker/store/store_conformance.h"

#include <atomic>
#include <filesystem>

#include "absl/synchronization/notification.h"

namespace simq::store {

std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreConformanceTest::SetUp() {
  static std::atomic<int> counter{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  dir_ = std::string(tmp ? tmp : "/tmp") + "/store-" + std::to_string(counter++);
  std::filesystem::remove_all(dir_);
  absl::StatusOr<std::unique_ptr<Store>> s = GetParam().open(dir_);
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = *std::move(s);
}

void StoreConformanceTest::Restart() {
  store_->Flush();
  store_.reset();
  absl::StatusOr<std::unique_ptr<Store>> s = GetParam().open(dir_);
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = *std::move(s);
}

void StoreConformanceTest::CommitAndWait(std::unique_ptr<WriteBatch> batch) {
  absl::Notification done;
  absl::Status status;
  store_->Commit(std::move(batch), [&](absl::Status s) {
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status;
}

LoadedState StoreConformanceTest::LoadOrDie() {
  absl::StatusOr<LoadedState> state = store_->Load();
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : LoadedState{};
}

namespace {

SessionRecord Session(const std::string& client_id) {
  SessionRecord s;
  s.set_client_id(client_id);
  s.set_protocol_version(5);
  s.set_expiry_interval(3600);
  s.set_connected(false);
  s.set_disconnected_at_ms(1'700'000'000'000);
  auto* sub = s.add_subscriptions();
  sub->set_filter("a/+/c");
  sub->set_options(0x2D);
  sub->set_subscription_id(42);
  auto* shared = s.add_subscriptions();
  shared->set_filter("$share/g/x/#");
  shared->set_options(0x01);
  s.mutable_will()->set_topic("wills/" + client_id);
  s.mutable_will()->set_payload(std::string("gone\0!", 6));
  s.mutable_will()->set_qos(1);
  s.mutable_will()->set_retain(true);
  s.mutable_will()->set_properties(std::string("\x03\x00\x04text", 7));
  s.mutable_will()->set_delay_seconds(30);
  s.set_will_due_ms(1'700'000'030'000);
  return s;
}

MessageRecord Message(const std::string& topic, const std::string& payload) {
  MessageRecord m;
  m.set_topic(topic);
  m.set_payload(payload);
  m.set_qos(2);
  m.set_retain(false);
  m.set_properties(std::string("\x26\x00\x01k\x00\x01v", 7));
  m.set_expires_at_ms(1'800'000'000'000);
  return m;
}

DeliveryRecord Delivery(uint64_t message_id, uint64_t sequence = 0) {
  DeliveryRecord d;
  d.set_message_id(message_id);
  d.set_qos(1);
  d.set_retain(true);
  d.add_subscription_ids(7);
  d.add_subscription_ids(9);
  d.set_sequence(sequence);
  return d;
}

bool SameMessage(const google::protobuf::MessageLite& a, const google::protobuf::MessageLite& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

const StoredSession* Find(const LoadedState& state, const std::string& client_id) {
  for (const StoredSession& s : state.sessions) {
    if (s.record.client_id() == client_id) return &s;
  }
  return nullptr;
}

TEST_P(StoreConformanceTest, EmptyStoreLoadsNothing) {
  LoadedState state = LoadOrDie();
  EXPECT_TRUE(state.sessions.empty());
  EXPECT_TRUE(state.messages.empty());
  EXPECT_TRUE(state.retained.empty());
  EXPECT_EQ(state.max_message_id, 0u);
}

TEST_P(StoreConformanceTest, EverythingSurvivesARestart) {
  auto batch = store().NewBatch();
  batch->PutSession(Session("c1"));
  batch->PutMessage(5, Message("t/1", "one"));
  batch->PutMessage(6, Message("t/2", std::string(1 << 20, 'x')));  // a 1 MiB payload
  batch->PutQueued("c1", 10, Delivery(5));
  batch->PutQueued("c1", 11, Delivery(6));
  batch->PutInflight("c1", 300, Delivery(5, 1));
  batch->PutInboundQos2("c1", 17);
  batch->PutRetained(Message("r/1", "kept"));
  CommitAndWait(std::move(batch));
  Restart();

  LoadedState state = LoadOrDie();
  ASSERT_EQ(state.sessions.size(), 1u);
  const StoredSession& s = state.sessions[0];
  EXPECT_TRUE(SameMessage(s.record, Session("c1")));
  ASSERT_EQ(s.queue.size(), 2u);
  EXPECT_EQ(s.queue[0].first, 10u);
  EXPECT_TRUE(SameMessage(s.queue[0].second, Delivery(5)));
  EXPECT_EQ(s.queue[1].first, 11u);
  ASSERT_EQ(s.inflight.size(), 1u);
  EXPECT_EQ(s.inflight[0].first, 300);
  EXPECT_TRUE(SameMessage(s.inflight[0].second, Delivery(5, 1)));
  EXPECT_EQ(s.inbound_qos2, std::vector<uint16_t>(1, 17));
  ASSERT_EQ(state.messages.size(), 2u);
  EXPECT_TRUE(SameMessage(state.messages.at(5), Message("t/1", "one")));
  EXPECT_EQ(state.messages.at(6).payload().size(), 1u << 20);
  EXPECT_EQ(state.max_message_id, 6u);
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_TRUE(SameMessage(state.retained[0], Message("r/1", "kept")));
}

TEST_P(StoreConformanceTest, QueueLoadsInSequenceOrderAndInflightInSendOrder) {
  auto batch = store().NewBatch();
  batch->PutSession(Session("c"));
  batch->PutMessage(1, Message("t", "m"));
  for (uint64_t seq : {300, 2, 70000, 1}) batch->PutQueued("c", seq, Delivery(1));
  // Packet ids wrap; the send order is the record's sequence, not the id.
  batch->PutInflight("c", 65535, Delivery(1, 1));
  batch->PutInflight("c", 1, Delivery(1, 2));
  batch->PutInflight("c", 40, Delivery(1, 0));
  CommitAndWait(std::move(batch));
  Restart();
  LoadedState state = LoadOrDie();
  const StoredSession* s = Find(state, "c");
  ASSERT_NE(s, nullptr);
  std::vector<uint64_t> seqs;
  for (const auto& [seq, d] : s->queue) seqs.push_back(seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 300, 70000}));
  std::vector<uint16_t> pids;
  for (const auto& [pid, d] : s->inflight) pids.push_back(pid);
  EXPECT_EQ(pids, (std::vector<uint16_t>{40, 65535, 1}));
}

TEST_P(StoreConformanceTest, DeletesTakeEffectInCommitOrder) {
  auto first = store().NewBatch();
  first->PutSession(Session("c"));
  first->PutMessage(1, Message("t", "m"));
  first->PutQueued("c", 1, Delivery(1));
  first->PutQueued("c", 2, Delivery(1));
  first->PutInflight("c", 9, Delivery(1));
  first->PutInboundQos2("c", 4);
  first->PutRetained(Message("r", "x"));
  store().Commit(std::move(first), nullptr);
  auto second = store().NewBatch();
  second->DeleteQueued("c", 1);
  second->DeleteInflight("c", 9);
  second->DeleteInboundQos2("c", 4);
  second->DeleteRetained("r");
  CommitAndWait(std::move(second));
  Restart();
  LoadedState state = LoadOrDie();
  const StoredSession* s = Find(state, "c");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->queue.size(), 1u);
  EXPECT_EQ(s->queue[0].first, 2u);
  EXPECT_TRUE(s->inflight.empty());
  EXPECT_TRUE(s->inbound_qos2.empty());
  EXPECT_TRUE(state.retained.empty());
}

TEST_P(StoreConformanceTest, DeleteSessionRemovesEverythingUnderIt) {
  auto batch = store().NewBatch();
  for (std::string id : {"a", "ab", "b"}) {  // "ab" shares a prefix with "a"
    batch->PutSession(Session(id));
  }
  batch->PutMessage(1, Message("t", "m"));
  for (std::string id : {"a", "ab", "b"}) {
    batch->PutQueued(id, 1, Delivery(1));
    batch->PutInflight(id, 1, Delivery(1));
    batch->PutInboundQos2(id, 1);
  }
  CommitAndWait(std::move(batch));
  auto del = store().NewBatch();
  del->DeleteSession("a");
  CommitAndWait(std::move(del));
  Restart();
  LoadedState state = LoadOrDie();
  EXPECT_EQ(Find(state, "a"), nullptr);
  for (std::string id : {"ab", "b"}) {
    const StoredSession* s = Find(state, id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->queue.size(), 1u);
    EXPECT_EQ(s->inflight.size(), 1u);
    EXPECT_EQ(s->inbound_qos2.size(), 1u);
  }
  EXPECT_EQ(state.dropped_dangling_deliveries, 0u);
}

TEST_P(StoreConformanceTest, OneMessageServesManySessions) {
  auto batch = store().NewBatch();
  batch->PutMessage(3, Message("t", "shared"));
  for (int i = 0; i < 5; ++i) {
    std::string id = "s" + std::to_string(i);
    batch->PutSession(Session(id));
    batch->PutQueued(id, 1, Delivery(3));
  }
  CommitAndWait(std::move(batch));
  Restart();
  LoadedState state = LoadOrDie();
  EXPECT_EQ(state.sessions.size(), 5u);
  EXPECT_EQ(state.messages.size(), 1u);
  for (const StoredSession& s : state.sessions) {
    ASSERT_EQ(s.queue.size(), 1u);
    EXPECT_EQ(s.queue[0].second.message_id(), 3u);
  }
}

TEST_P(StoreConformanceTest, LoadRepairsWhatACrashBetweenBatchesLeaves) {
  // A delivery whose message never made it, entries of a session that is gone, and a message
  // nothing references: each is dropped, and the repair itself is stored.
  auto batch = store().NewBatch();
  batch->PutSession(Session("c"));
  batch->PutMessage(1, Message("t", "kept"));
  batch->PutMessage(2, Message("t", "orphan"));
  batch->PutQueued("c", 1, Delivery(1));
  batch->PutQueued("c", 2, Delivery(99));    // message 99 was never written
  batch->PutInflight("c", 5, Delivery(98));  // nor 98
  batch->PutQueued("gone", 1, Delivery(1));  // no session "gone"
  CommitAndWait(std::move(batch));
  Restart();
  LoadedState state = LoadOrDie();
  const StoredSession* s = Find(state, "c");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->queue.size(), 1u);
  EXPECT_EQ(s->queue[0].second.message_id(), 1u);
  EXPECT_TRUE(s->inflight.empty());
  EXPECT_EQ(state.dropped_dangling_deliveries, 3u);
  EXPECT_EQ(state.dropped_unreferenced_messages, 1u);
  EXPECT_FALSE(state.messages.contains(2));
  Restart();
  LoadedState again = LoadOrDie();
  EXPECT_EQ(again.dropped_dangling_deliveries, 0u);
  EXPECT_EQ(again.dropped_unreferenced_messages, 0u);
  EXPECT_EQ(again.messages.size(), 1u);
}

TEST_P(StoreConformanceTest, RetainedIsKeyedByTopic) {
  auto batch = store().NewBatch();
  batch->PutRetained(Message("a/b", "1"));
  batch->PutRetained(Message("a/c", "2"));
  batch->PutRetained(Message("a/b", "3"));  // replaces
  CommitAndWait(std::move(batch));
  Restart();
  LoadedState state = LoadOrDie();
  ASSERT_EQ(state.retained.size(), 2u);
  std::map<std::string, std::string> by_topic;
  for (const MessageRecord& m : state.retained) by_topic[m.topic()] = m.payload();
  EXPECT_EQ(by_topic["a/b"], "3");
  EXPECT_EQ(by_topic["a/c"], "2");
}

TEST_P(StoreConformanceTest, UnusualClientIdsAndTopics) {
  const std::string ids[] = {"with/slash", "sp ace", "\xc3\xa9t\xc3\xa9", "$dollar", "x"};
  auto batch = store().NewBatch();
  batch->PutMessage(1, Message("t", "m"));
  for (const std::string& id : ids) {
    batch->PutSession(Session(id));
    batch->PutQueued(id, 0xFFFFFFFFFFull, Delivery(1));
  }
  batch->PutRetained(Message("$SYS/\xc3\xa9/#x", "y"));
  CommitAndWait(std::move(batch));
  Restart();
  LoadedState state = LoadOrDie();
  for (const std::string& id : ids) {
    const StoredSession* s = Find(state, id);
    ASSERT_NE(s, nullptr) << id;
    ASSERT_EQ(s->queue.size(), 1u);
    EXPECT_EQ(s->queue[0].first, 0xFFFFFFFFFFull);
  }
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0].topic(), "$SYS/\xc3\xa9/#x");
}

TEST_P(StoreConformanceTest, CallbacksRunInCommitOrderAndBatchesAreIndependent) {
  std::vector<int> order;
  absl::Mutex mu;
  absl::Notification last;
  for (int i = 0; i < 50; ++i) {
    auto batch = store().NewBatch();
    batch->PutMessage(static_cast<uint64_t>(i) + 1, Message("t", std::to_string(i)));
    store().Commit(std::move(batch), [&, i](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      absl::MutexLock lock(&mu);
      order.push_back(i);
      if (i == 49) last.Notify();
    });
  }
  last.WaitForNotification();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST_P(StoreConformanceTest, AnEmptyBatchCommits) {
  CommitAndWait(store().NewBatch());
  EXPECT_TRUE(LoadOrDie().sessions.empty());
}

}  // namespace
}  // namespace simq::store
