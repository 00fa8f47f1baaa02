#include "broker/session/session.h"

#include <gtest/gtest.h>

namespace simq::session {
namespace {

using protocol::QoS;

Delivery MakeDelivery(std::string payload, QoS qos = QoS::kAtLeastOnce) {
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = std::move(payload);
  m->qos = qos;
  return Delivery{.message = m, .qos = qos};
}

TEST(SessionTest, PacketIdsAreUniqueAmongInflightAndCycle) {
  Session s(1, "c");
  uint16_t a = s.AllocatePacketId();
  s.AddInflight(a, MakeDelivery("a"));
  uint16_t b = s.AllocatePacketId();
  EXPECT_NE(a, b);
  EXPECT_NE(a, 0);
  s.TakeInflight(a);
  // A released id is not handed out again at once.
  EXPECT_NE(s.AllocatePacketId(), a);
}

TEST(SessionTest, PacketIdsSkipZeroAndInUseAfterWrap) {
  Session s(1, "c");
  for (int i = 0; i < 65535; ++i) {
    uint16_t id = s.AllocatePacketId();
    ASSERT_NE(id, 0);
    s.AddInflight(id, MakeDelivery("x"));
  }
  EXPECT_EQ(s.AllocatePacketId(), 0);  // all in use
  s.TakeInflight(40000);
  EXPECT_EQ(s.AllocatePacketId(), 40000);
}

TEST(SessionTest, InflightOrderIsSendOrder) {
  Session s(1, "c");
  s.AddInflight(9, MakeDelivery("1"));
  s.AddInflight(3, MakeDelivery("2"));
  s.AddInflight(7, MakeDelivery("3"));
  EXPECT_EQ(s.InflightInOrder(), (std::vector<uint16_t>{9, 3, 7}));
}

TEST(SessionTest, QueueDropsNewWhenFull) {
  Session s(1, "c");
  QueueLimits limits{.max_messages = 2};
  std::vector<Delivery> dropped;
  EXPECT_EQ(s.Enqueue(MakeDelivery("1"), limits, &dropped), EnqueueResult::kQueued);
  EXPECT_EQ(s.Enqueue(MakeDelivery("2"), limits, &dropped), EnqueueResult::kQueued);
  EXPECT_EQ(s.Enqueue(MakeDelivery("3"), limits, &dropped), EnqueueResult::kDroppedNew);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].message->payload, "3");
  EXPECT_EQ(s.PopQueued()->message->payload, "1");
  EXPECT_EQ(s.PopQueued()->message->payload, "2");
  EXPECT_FALSE(s.PopQueued().has_value());
}

TEST(SessionTest, QueueDropsOldestWhenConfigured) {
  Session s(1, "c");
  QueueLimits limits{.max_messages = 2, .drop_oldest = true};
  std::vector<Delivery> dropped;
  s.Enqueue(MakeDelivery("1"), limits, &dropped);
  s.Enqueue(MakeDelivery("2"), limits, &dropped);
  EXPECT_EQ(s.Enqueue(MakeDelivery("3"), limits, &dropped), EnqueueResult::kQueuedDroppedOldest);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].message->payload, "1");
  EXPECT_EQ(s.PopQueued()->message->payload, "2");
  EXPECT_EQ(s.PopQueued()->message->payload, "3");
}

TEST(SessionTest, QueueByteLimitCountsMessageBytes) {
  Session s(1, "c");
  QueueLimits limits{.max_bytes = 10};  // topic "t" (1) + payload
  std::vector<Delivery> dropped;
  EXPECT_EQ(s.Enqueue(MakeDelivery("12345"), limits, &dropped), EnqueueResult::kQueued);
  EXPECT_EQ(s.queued_bytes(), 6u);
  EXPECT_EQ(s.Enqueue(MakeDelivery("1234"), limits, &dropped), EnqueueResult::kDroppedNew);
  EXPECT_EQ(s.Enqueue(MakeDelivery("123"), limits, &dropped), EnqueueResult::kQueued);
  EXPECT_EQ(s.queued_bytes(), 10u);
  s.PopQueued();
  EXPECT_EQ(s.queued_bytes(), 4u);
}

TEST(MessageTest, RemainingExpiryRoundsUp) {
  base::FakeClock clock;
  protocol::PublishPacket p;
  p.topic = "a";
  p.properties.message_expiry_interval = 10;
  p.properties.topic_alias = 3;
  MessagePtr m = MakeMessage(p, 1, clock.Now());
  EXPECT_FALSE(m->properties.view().topic_alias.has_value());              // per hop, dropped
  EXPECT_FALSE(m->properties.view().message_expiry_interval.has_value());  // kept as a deadline
  EXPECT_EQ(m->RemainingExpiry(clock.Now()), 10u);
  clock.Advance(std::chrono::milliseconds(2500));
  EXPECT_EQ(m->RemainingExpiry(clock.Now()), 8u);
  EXPECT_FALSE(m->expired(clock.Now()));
  clock.Advance(std::chrono::seconds(8));
  EXPECT_TRUE(m->expired(clock.Now()));
}

}  // namespace
}  // namespace simq::session
