#include "loadgen/mqtt_wire.h"

#include <string>

#include <gtest/gtest.h>

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "loadgen/buffer.h"

namespace simq::loadgen {
namespace {

using protocol::ProtocolVersion;

// Decodes `bytes` (one whole packet) with the codec.
protocol::PublishPacket CodecDecode(std::string_view bytes, ProtocolVersion v) {
  auto header = protocol::ParseFixedHeader(bytes, protocol::kMaxPacketSize);
  EXPECT_TRUE(header.ok() && header->has_value());
  EXPECT_EQ((*header)->total_size(), bytes.size());
  auto publish = protocol::DecodePublish(protocol::MakeFrame(**header, bytes), v);
  EXPECT_TRUE(publish.ok()) << publish.status();
  return publish.ok() ? *publish : protocol::PublishPacket{};
}

TEST(PublishTemplateTest, WritesWhatTheCodecDecodes) {
  for (ProtocolVersion v : {ProtocolVersion::kMqtt311, ProtocolVersion::kMqtt5}) {
    for (int qos : {0, 1, 2}) {
      for (size_t payload : {16u, 100u, 1024u, 20000u}) {
        PublishTemplate t("lg/abc/7", qos, v, payload);
        std::string out(t.size(), '\0');
        t.Write(out.data(), 4242, Stamp{99, 7, 12345});
        protocol::PublishPacket p = CodecDecode(out, v);
        EXPECT_EQ(p.topic, "lg/abc/7");
        EXPECT_EQ(static_cast<int>(p.qos), qos);
        EXPECT_EQ(p.packet_id, qos ? 4242 : 0);
        ASSERT_EQ(p.payload.size(), payload);
        EXPECT_EQ(ReadStamp(p.payload), (Stamp{99, 7, 12345}));
        if (payload > kStampSize) EXPECT_EQ(p.payload.back(), kFiller);
      }
    }
  }
}

TEST(PublishTemplateTest, TopicAliasTemplates) {
  PublishTemplate first("t/1", 1, ProtocolVersion::kMqtt5, 16, /*topic_alias=*/3, true);
  PublishTemplate rest("t/1", 1, ProtocolVersion::kMqtt5, 16, 3, false);
  std::string a(first.size(), '\0'), b(rest.size(), '\0');
  first.Write(a.data(), 1, Stamp{1, 0, 0});
  rest.Write(b.data(), 2, Stamp{2, 0, 1});
  protocol::PublishPacket pa = CodecDecode(a, ProtocolVersion::kMqtt5);
  protocol::PublishPacket pb = CodecDecode(b, ProtocolVersion::kMqtt5);
  EXPECT_EQ(pa.topic, "t/1");
  EXPECT_EQ(pa.properties.topic_alias, 3);
  EXPECT_EQ(pb.topic, "");
  EXPECT_EQ(pb.properties.topic_alias, 3);
  EXPECT_LT(rest.size(), first.size());
}

TEST(ParsePublishTest, AgreesWithTheCodec) {
  for (ProtocolVersion v : {ProtocolVersion::kMqtt311, ProtocolVersion::kMqtt5}) {
    protocol::PublishPacket p;
    p.topic = "a/b";
    p.qos = protocol::QoS::kExactlyOnce;
    p.packet_id = 513;
    p.retain = true;
    p.payload = "0123456789abcdefXYZ";
    if (v == ProtocolVersion::kMqtt5) {
      p.properties.topic_alias = 9;
      p.properties.message_expiry_interval = 60;
      p.properties.content_type = "text/plain";
      protocol::StringPair pairs[] = {{"k", "v"}};
      p.properties.user_properties = protocol::UserProperties(pairs);
      uint32_t ids[] = {300};
      p.properties.subscription_ids = protocol::SubscriptionIds(ids);
      std::string bytes;
      protocol::Encode(p, v, &bytes);
      FrameHeader h;
      ASSERT_EQ(SplitFrame(bytes.data(), bytes.size(), &h), Split::kOk);
      IncomingPublish in;
      ASSERT_TRUE(ParsePublish(h.first, std::string_view(bytes).substr(h.header_size), true, &in));
      EXPECT_EQ(in.topic_alias, 9);
      EXPECT_EQ(in.payload, p.payload);
      continue;
    }
    std::string bytes;
    protocol::Encode(p, v, &bytes);
    FrameHeader h;
    ASSERT_EQ(SplitFrame(bytes.data(), bytes.size(), &h), Split::kOk);
    EXPECT_EQ(h.total(), bytes.size());
    IncomingPublish in;
    ASSERT_TRUE(ParsePublish(h.first, std::string_view(bytes).substr(h.header_size), false, &in));
    EXPECT_EQ(in.topic, "a/b");
    EXPECT_EQ(in.qos, 2);
    EXPECT_TRUE(in.retain);
    EXPECT_EQ(in.packet_id, 513);
    EXPECT_EQ(in.payload, p.payload);
  }
}

TEST(ParsePublishTest, RejectsTruncatedAndInvalid) {
  IncomingPublish in;
  EXPECT_FALSE(ParsePublish(0x30, std::string_view("\x00", 1), false, &in));
  EXPECT_FALSE(ParsePublish(0x30,
                            std::string_view("\x00\x05"
                                             "ab",
                                             4),
                            false, &in));
  EXPECT_FALSE(ParsePublish(0x36,
                            std::string_view("\x00\x01"
                                             "a",
                                             3),
                            false, &in));  // QoS 3
  EXPECT_FALSE(ParsePublish(0x32,
                            std::string_view("\x00\x01"
                                             "a\x00\x00",
                                             5),
                            false, &in));
  // MQTT 5 property length past the end.
  EXPECT_FALSE(ParsePublish(0x30,
                            std::string_view("\x00\x01"
                                             "a\x05\x23",
                                             5),
                            true, &in));
  // Unknown property.
  EXPECT_FALSE(ParsePublish(0x30,
                            std::string_view("\x00\x01"
                                             "a\x01\x7f",
                                             5),
                            true, &in));
}

TEST(SplitFrameTest, HandlesPartialAndMultiByteLengths) {
  FrameHeader h;
  EXPECT_EQ(SplitFrame("\x30", 1, &h), Split::kNeedMore);
  EXPECT_EQ(SplitFrame("\x30\x80", 2, &h), Split::kNeedMore);
  ASSERT_EQ(SplitFrame("\x30\x80\x01", 3, &h), Split::kOk);
  EXPECT_EQ(h.remaining, 128u);
  EXPECT_EQ(h.header_size, 3);
  EXPECT_EQ(SplitFrame("\x30\xff\xff\xff\xff\x01", 6, &h), Split::kMalformed);
}

TEST(AckTest, WritesAndParsesBothVersions) {
  char b[4];
  WriteAck(b, kPubrel, 0x1234);
  EXPECT_EQ(std::string_view(b, 4), std::string_view("\x62\x02\x12\x34", 4));
  IncomingAck a;
  ASSERT_TRUE(ParseAck(std::string_view(b + 2, 2), &a));
  EXPECT_EQ(a.packet_id, 0x1234);
  EXPECT_EQ(a.reason, 0);
  ASSERT_TRUE(ParseAck(std::string_view("\x00\x07\x97\x00", 4), &a));  // MQTT 5 quota exceeded
  EXPECT_EQ(a.reason, 0x97);
  EXPECT_FALSE(ParseAck(std::string_view("\x00\x00", 2), &a));
}

TEST(BufferTest, AppendConsumeAndSlide) {
  Buffer b;
  b.Append("hello ");
  b.Append("world");
  EXPECT_EQ(b.view(), "hello world");
  b.Consume(6);
  EXPECT_EQ(b.view(), "world");
  for (int i = 0; i < 1000; ++i) b.Append("0123456789");
  EXPECT_EQ(b.size(), 5u + 10000u);
  EXPECT_EQ(b.view().substr(0, 7), "world01");
  b.Consume(b.size());
  EXPECT_TRUE(b.empty());
  b.Release();
  EXPECT_EQ(b.capacity(), 0u);
}

}  // namespace
}  // namespace simq::loadgen
