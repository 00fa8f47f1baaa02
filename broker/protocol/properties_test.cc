// MQTT 5 properties (§2.2.2): the table of where each may appear, and every way a property
// block can be wrong.

#include "broker/protocol/properties.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/protocol/error.h"
#include "broker/protocol/reason_code.h"
#include "broker/protocol/test_util.h"
#include "broker/protocol/wire.h"

namespace simq::protocol {
namespace {

using test::Bytes;
using C = PropertyContext;
using P = PropertyId;

// The property block of `props`, without its Property Length.
std::string BlockOf(const Properties& props) {
  const size_t size = PropertiesSize(props);
  std::string out(PropertiesWireSize(props), '\0');
  Writer w(out.data());
  EncodeProperties(props, size, w);
  EXPECT_EQ(w.position(), out.data() + out.size()) << "PropertiesWireSize disagrees";
  return out.substr(out.size() - size);
}

// `block` with a Property Length in front.
std::string WithLength(std::string_view block) {
  std::string out(VarIntSize(static_cast<uint32_t>(block.size())), '\0');
  Writer w(out.data());
  w.VarInt(static_cast<uint32_t>(block.size()));
  return out + std::string(block);
}

struct Decoded {
  absl::Status status;
  Properties props;
  size_t left = 0;  // bytes the reader did not consume
};

// Decodes a Property Length and block from a kept copy of `bytes` (the result holds views).
Decoded Decode(std::string bytes, PropertyContext context) {
  Decoded d;
  Reader r(test::Keep(std::move(bytes)));
  d.status = DecodeProperties(r, context, &d.props);
  d.left = r.remaining();
  return d;
}

// §2.2.2.2 table 2-4, written out from the specification independently of the codec's table.
const std::map<PropertyId, std::set<PropertyContext>>& SpecTable() {
  static const auto* table = new std::map<PropertyId, std::set<PropertyContext>>{
      {P::kPayloadFormatIndicator, {C::kPublish, C::kWill}},
      {P::kMessageExpiryInterval, {C::kPublish, C::kWill}},
      {P::kContentType, {C::kPublish, C::kWill}},
      {P::kResponseTopic, {C::kPublish, C::kWill}},
      {P::kCorrelationData, {C::kPublish, C::kWill}},
      {P::kSubscriptionIdentifier, {C::kPublish, C::kSubscribe}},
      {P::kSessionExpiryInterval, {C::kConnect, C::kConnack, C::kDisconnect}},
      {P::kAssignedClientIdentifier, {C::kConnack}},
      {P::kServerKeepAlive, {C::kConnack}},
      {P::kAuthenticationMethod, {C::kConnect, C::kConnack, C::kAuth}},
      {P::kAuthenticationData, {C::kConnect, C::kConnack, C::kAuth}},
      {P::kRequestProblemInformation, {C::kConnect}},
      {P::kWillDelayInterval, {C::kWill}},
      {P::kRequestResponseInformation, {C::kConnect}},
      {P::kResponseInformation, {C::kConnack}},
      {P::kServerReference, {C::kConnack, C::kDisconnect}},
      {P::kReasonString,
       {C::kConnack, C::kPuback, C::kPubrec, C::kPubrel, C::kPubcomp, C::kSuback, C::kUnsuback,
        C::kDisconnect, C::kAuth}},
      {P::kReceiveMaximum, {C::kConnect, C::kConnack}},
      {P::kTopicAliasMaximum, {C::kConnect, C::kConnack}},
      {P::kTopicAlias, {C::kPublish}},
      {P::kMaximumQoS, {C::kConnack}},
      {P::kRetainAvailable, {C::kConnack}},
      {P::kUserProperty,
       {C::kConnect, C::kWill, C::kConnack, C::kPublish, C::kPuback, C::kPubrec, C::kPubrel,
        C::kPubcomp, C::kSubscribe, C::kSuback, C::kUnsubscribe, C::kUnsuback, C::kDisconnect,
        C::kAuth}},
      {P::kMaximumPacketSize, {C::kConnect, C::kConnack}},
      {P::kWildcardSubscriptionAvailable, {C::kConnack}},
      {P::kSubscriptionIdentifierAvailable, {C::kConnack}},
      {P::kSharedSubscriptionAvailable, {C::kConnack}},
  };
  return *table;
}

TEST(IsPropertyAllowedTest, MatchesTheSpecificationTable) {
  ASSERT_EQ(SpecTable().size(), std::size(test::kAllPropertyIds));
  for (PropertyId id : test::kAllPropertyIds) {
    for (PropertyContext context : test::kAllContexts) {
      EXPECT_EQ(IsPropertyAllowed(id, context), SpecTable().at(id).count(context) == 1)
          << "property 0x" << std::hex << static_cast<int>(id) << " in "
          << test::ContextName(context);
    }
  }
}

TEST(IsPropertyAllowedTest, UnknownIdentifiersAreNeverAllowed) {
  std::set<int> known;
  for (PropertyId id : test::kAllPropertyIds) known.insert(static_cast<int>(id));
  for (int id = 0; id <= 0xFF; ++id) {
    if (known.count(id) != 0) continue;
    for (PropertyContext context : test::kAllContexts) {
      EXPECT_FALSE(IsPropertyAllowed(static_cast<PropertyId>(id), context)) << id;
    }
  }
}

TEST(DecodePropertiesTest, EmptyBlockLeavesEverythingAbsent) {
  Decoded d = Decode(Bytes("00 ff"), C::kPublish);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(test::Describe(d.props), test::Describe(Properties{}));
  EXPECT_EQ(d.left, 1u);  // only the block is consumed
}

TEST(DecodePropertiesTest, ReadsTheSpecificationsConnectExample) {
  // §3.1.2.11 figure 3-6: Property Length 5, Session Expiry Interval (17) = 10.
  Decoded d = Decode(Bytes("05 11 00 00 00 0a"), C::kConnect);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.props.session_expiry_interval, 10u);
  EXPECT_EQ(d.left, 0u);
}

TEST(DecodePropertiesTest, PropertyNotAllowedInContextIsMalformed) {
  // Walk every (property, place) pair the table forbids: the encoder writes whatever it is
  // given, the decoder must refuse it with 0x81 [§2.2.2.2].
  int forbidden = 0;
  for (PropertyContext context : test::kAllContexts) {
    for (PropertyId id : test::kAllPropertyIds) {
      if (IsPropertyAllowed(id, context)) continue;
      SCOPED_TRACE("property " + std::to_string(static_cast<int>(id)) + " in " +
                   test::ContextName(context));
      Properties props;
      test::SetSampleProperty(id, context, &props);
      const std::string bytes =
          EncodeToString(test::PacketWithProperties(context, props), ProtocolVersion::kMqtt5);
      EXPECT_EQ(test::ReasonOf(test::DecodeOne(bytes, ProtocolVersion::kMqtt5)),
                ReasonCode::kMalformedPacket);
      EXPECT_EQ(test::ReasonOf(Decode(WithLength(BlockOf(props)), context).status),
                ReasonCode::kMalformedPacket);
      ++forbidden;
    }
  }
  EXPECT_EQ(forbidden, 27 * 14 - 64);
}

TEST(DecodePropertiesTest, UnknownIdentifierIsMalformed) {
  for (std::string_view block : {"01 00", "01 04", "01 2b", "01 7f", "02 80 01", "01 ff"}) {
    EXPECT_EQ(test::ReasonOf(Decode(Bytes(block), C::kConnack).status),
              ReasonCode::kMalformedPacket)
        << block;
  }
}

TEST(DecodePropertiesTest, NonRepeatablePropertyTwiceIsProtocolError) {
  // "It is a Protocol Error to include <property> more than once" — every property but User
  // Property, and Subscription Identifier outside PUBLISH.
  int checked = 0;
  for (PropertyContext context : test::kAllContexts) {
    for (PropertyId id : test::kAllPropertyIds) {
      if (!IsPropertyAllowed(id, context)) continue;
      Properties props;
      test::SetSampleProperty(id, context, &props);
      std::string block = BlockOf(props);
      if (id == P::kSubscriptionIdentifier && context == C::kPublish) {
        block = BlockOf(
            Properties{.subscription_ids = SubscriptionIds(test::kSampleSubscriptionIdSubscribe)});
      }
      const Decoded d = Decode(WithLength(block + block), context);
      const bool repeatable =
          id == P::kUserProperty || (id == P::kSubscriptionIdentifier && context == C::kPublish);
      SCOPED_TRACE("property " + std::to_string(static_cast<int>(id)) + " twice in " +
                   test::ContextName(context));
      if (repeatable) {
        EXPECT_TRUE(d.status.ok()) << d.status;
      } else {
        EXPECT_EQ(test::ReasonOf(d.status), ReasonCode::kProtocolError);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 49);
}

TEST(DecodePropertiesTest, SecondSubscriptionIdentifierInSubscribeIsProtocolError) {
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("04 0b 01 0b 02"), C::kSubscribe).status),
            ReasonCode::kProtocolError);
  Decoded publish = Decode(Bytes("04 0b 01 0b 02"), C::kPublish);
  ASSERT_TRUE(publish.status.ok()) << publish.status;
  EXPECT_EQ(publish.props.subscription_ids.ToVector(), (std::vector<uint32_t>{1, 2}));
}

TEST(DecodePropertiesTest, PropertyLengthBeyondThePacketIsMalformed) {
  // Property Length says 6, only 5 bytes follow.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("06 11 00 00 00 0a"), C::kConnect).status),
            ReasonCode::kMalformedPacket);
  // A value that runs past the end of its block, even though the packet goes on.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("03 11 00 00 00 0a"), C::kConnect).status),
            ReasonCode::kMalformedPacket);
  // A string whose length runs past the block.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("04 1f 00 05 'a' 'bcde'"), C::kPuback).status),
            ReasonCode::kMalformedPacket);
  // A user property with a name but no value.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("04 26 00 01 'k'"), C::kPuback).status),
            ReasonCode::kMalformedPacket);
  // Property Length itself malformed or truncated.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("80 00"), C::kPuback).status),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("80"), C::kPuback).status), ReasonCode::kMalformedPacket);
  EXPECT_EQ(test::ReasonOf(Decode("", C::kPuback).status), ReasonCode::kMalformedPacket);
  // A Subscription Identifier that is not a valid Variable Byte Integer.
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("03 0b 80 00"), C::kPublish).status),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(test::ReasonOf(Decode(Bytes("06 0b 80 80 80 80 01"), C::kPublish).status),
            ReasonCode::kMalformedPacket);
}

TEST(DecodePropertiesTest, OutOfRangeValuesAreProtocolErrors) {
  struct Case {
    std::string_view block;
    PropertyContext context;
    const char* what;
  };
  const Case cases[] = {
      {"03 21 00 00", C::kConnect, "Receive Maximum 0 (§3.1.2.11.3)"},
      {"03 21 00 00", C::kConnack, "Receive Maximum 0 (§3.2.2.3.3)"},
      {"05 27 00 00 00 00", C::kConnect, "Maximum Packet Size 0 (§3.1.2.11.4)"},
      {"05 27 00 00 00 00", C::kConnack, "Maximum Packet Size 0 (§3.2.2.3.6)"},
      {"02 24 02", C::kConnack, "Maximum QoS 2 (§3.2.2.3.4)"},
      {"02 17 02", C::kConnect, "Request Problem Information 2 (§3.1.2.11.7)"},
      {"02 19 02", C::kConnect, "Request Response Information 2 (§3.1.2.11.6)"},
      {"02 01 02", C::kPublish, "Payload Format Indicator 2 (§3.3.2.3.2)"},
      {"02 01 ff", C::kWill, "Payload Format Indicator 255 (§3.1.3.2.3)"},
      {"02 0b 00", C::kPublish, "Subscription Identifier 0 (§3.3.2.3.8)"},
      {"02 0b 00", C::kSubscribe, "Subscription Identifier 0 (§3.8.2.1.2)"},
      {"02 25 02", C::kConnack, "Retain Available 2 (§3.2.2.3.5)"},
      {"02 28 02", C::kConnack, "Wildcard Subscription Available 2 (§3.2.2.3.11)"},
      {"02 29 02", C::kConnack, "Subscription Identifiers Available 2 (§3.2.2.3.12)"},
      {"02 2a 02", C::kConnack, "Shared Subscription Available 2 (§3.2.2.3.13)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(test::ReasonOf(Decode(Bytes(c.block), c.context).status), ReasonCode::kProtocolError)
        << c.what;
  }
  // The edges of the same ranges are accepted.
  const Case accepted[] = {
      {"03 21 00 01", C::kConnect, "Receive Maximum 1"},
      {"05 27 00 00 00 01", C::kConnect, "Maximum Packet Size 1"},
      {"02 24 01", C::kConnack, "Maximum QoS 1"},
      {"02 24 00", C::kConnack, "Maximum QoS 0"},
      {"02 17 01", C::kConnect, "Request Problem Information 1"},
      {"05 0b ff ff ff 7f", C::kPublish, "Subscription Identifier 268,435,455"},
      {"03 23 00 00", C::kPublish, "Topic Alias 0 is the receiver's call (0x94)"},
      {"03 22 00 00", C::kConnect, "Topic Alias Maximum 0"},
  };
  for (const Case& c : accepted) {
    EXPECT_TRUE(Decode(Bytes(c.block), c.context).status.ok()) << c.what;
  }
}

TEST(DecodePropertiesTest, InvalidUtf8InStringPropertiesIsMalformed) {
  // §1.5.4: an ill-formed UTF-8 Encoded String is a Malformed Packet. Surrogate U+D800 as
  // ED A0 80, an overlong '/', U+0000, a truncated sequence, and U+110000.
  for (std::string_view bad : {"ed a0 80", "c0 af", "00", "e2 82", "f4 90 80 80"}) {
    SCOPED_TRACE(bad);
    const std::string s = Bytes(bad);
    const std::string len = Bytes("00") + static_cast<char>(s.size());
    const std::string user_name = "\x26" + len + s + Bytes("00 01 'v'");
    const std::string user_value = Bytes("26 00 01 'k'") + len + s;
    const std::string content_type = "\x03" + len + s;
    const std::string reason = "\x1f" + len + s;
    EXPECT_EQ(test::ReasonOf(Decode(WithLength(user_name), C::kPublish).status),
              ReasonCode::kMalformedPacket);
    EXPECT_EQ(test::ReasonOf(Decode(WithLength(user_value), C::kConnect).status),
              ReasonCode::kMalformedPacket);
    EXPECT_EQ(test::ReasonOf(Decode(WithLength(content_type), C::kPublish).status),
              ReasonCode::kMalformedPacket);
    EXPECT_EQ(test::ReasonOf(Decode(WithLength(reason), C::kDisconnect).status),
              ReasonCode::kMalformedPacket);
  }
}

TEST(DecodePropertiesTest, BinaryPropertiesAreNotUtf8Checked) {
  // Correlation Data and Authentication Data are Binary Data (§1.5.6).
  Decoded d = Decode(Bytes("0a 09 00 03 ed a0 80 16 00 01 00"), C::kPublish);
  EXPECT_EQ(test::ReasonOf(d.status), ReasonCode::kMalformedPacket);  // 0x16 not in PUBLISH
  d = Decode(Bytes("06 09 00 03 ed a0 80"), C::kPublish);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.props.correlation_data, Bytes("ed a0 80"));
  d = Decode(Bytes("0e 15 00 05 'PLAIN' 16 00 03 00 ff c0"), C::kAuth);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.props.authentication_data, Bytes("00 ff c0"));
}

TEST(DecodePropertiesTest, UserPropertiesInterleavedWithOthersKeepTheirOrder) {
  const std::string block = Bytes(
      "26 00 01 'b' 00 01 '1'"
      "02 00 00 00 3c"
      "26 00 01 'a' 00 01 '2'"
      "0b 05"
      "26 00 01 'b' 00 01 '1'"
      "0b 03");
  Decoded d = Decode(WithLength(block), C::kPublish);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.props.message_expiry_interval, 60u);
  EXPECT_EQ(d.props.user_properties.ToVector(),
            (std::vector<StringPair>{{"b", "1"}, {"a", "2"}, {"b", "1"}}));
  EXPECT_EQ(d.props.subscription_ids.ToVector(), (std::vector<uint32_t>{5, 3}));
  EXPECT_EQ(d.props.subscription_ids.front(), 5u);
}

TEST(EncodePropertiesTest, WritesAscendingIdentifiersWithTheirTypes) {
  const StringPair pair[] = {{"k", "v"}};
  const uint32_t ids[] = {200};
  const Properties props{.payload_format_indicator = 1,
                         .message_expiry_interval = 0x01020304,
                         .correlation_data = "c",
                         .subscription_ids = SubscriptionIds(ids),
                         .topic_alias = 0x0102,
                         .user_properties = UserProperties(pair)};
  EXPECT_EQ(test::Hex(WithLength(BlockOf(props))),
            test::Hex(Bytes("18"                          // Property Length 24
                            "01 01"                       // Payload Format Indicator
                            "02 01 02 03 04"              // Message Expiry Interval
                            "09 00 01 'c'"                // Correlation Data
                            "0b c8 01"                    // Subscription Identifier 200
                            "23 01 02"                    // Topic Alias
                            "26 00 01 'k' 00 01 'v'")));  // User Property
  EXPECT_EQ(PropertiesSize(props), 24u);
  EXPECT_EQ(PropertiesWireSize(props), 25u);
}

TEST(EncodePropertiesTest, SizeOfABlockNeedingATwoByteLength) {
  const std::string reason(200, 'r');
  const Properties props{.reason_string = reason};
  EXPECT_EQ(PropertiesSize(props), 203u);
  EXPECT_EQ(PropertiesWireSize(props), 205u);
  Decoded d = Decode(WithLength(BlockOf(props)), C::kPuback);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(d.props.reason_string, reason);
}

// --- OwnedProperties: stored copies that outlive the frame ---

// Every property, each with its sample value (several Subscription Identifiers, repeated User
// Properties), as a stored message or client result may hold them.
Properties EveryProperty() {
  Properties props;
  for (PropertyId id : test::kAllPropertyIds) test::SetSampleProperty(id, C::kPublish, &props);
  return props;
}

TEST(OwnedPropertiesTest, OutlivesTheBytesItWasMadeFrom) {
  const Properties all = EveryProperty();
  const std::string expected = test::Describe(all);
  // Decode a copy of the wire block from a buffer that is then overwritten and freed.
  auto buffer = std::make_unique<std::string>(WithLength(BlockOf(all)));
  Reader r(*buffer);
  Properties decoded;
  ASSERT_TRUE(DecodeProperties(r, C::kAny, &decoded).ok());
  OwnedProperties owned(decoded);
  std::fill(buffer->begin(), buffer->end(), '\xee');
  buffer.reset();
  EXPECT_EQ(test::Describe(owned.view()), expected);
  EXPECT_FALSE(owned.empty());
  EXPECT_EQ(owned.wire(), BlockOf(all));
}

TEST(OwnedPropertiesTest, CopiesAndMovesKeepTheirValues) {
  // A large block (heap-allocated string) and a tiny one (fits the small-string buffer, whose
  // bytes move with the object).
  const StringPair pair[] = {{"k", "v"}};
  const Properties tiny{.user_properties = UserProperties(pair)};
  for (const Properties& props : {EveryProperty(), tiny}) {
    const std::string expected = test::Describe(props);
    auto original = std::make_unique<OwnedProperties>(props);
    OwnedProperties copy(*original);
    OwnedProperties assigned;
    assigned = *original;
    OwnedProperties moved(std::move(*original));
    original.reset();
    OwnedProperties move_assigned;
    move_assigned = std::move(moved);
    EXPECT_EQ(test::Describe(copy.view()), expected);
    EXPECT_EQ(test::Describe(assigned.view()), expected);
    EXPECT_EQ(test::Describe(move_assigned.view()), expected);
    // A vector that reallocates moves its elements.
    std::vector<OwnedProperties> many;
    for (int i = 0; i < 20; ++i) many.push_back(copy);
    for (const OwnedProperties& p : many) EXPECT_EQ(test::Describe(p.view()), expected);
  }
}

TEST(OwnedPropertiesTest, KeepsOutOfRangeValuesForTheReceiverToJudge) {
  Properties props;
  props.receive_maximum = 0;  // a Protocol Error on the wire, but storable
  props.maximum_qos = 7;
  OwnedProperties owned(props);
  EXPECT_TRUE(owned.valid());
  EXPECT_EQ(owned.view().receive_maximum, std::optional<uint16_t>(0));
  EXPECT_EQ(owned.view().maximum_qos, std::optional<uint8_t>(7));
}

TEST(OwnedPropertiesTest, RefusesWhatCannotBeEncodedWithoutAborting) {
  Properties bad_utf8;
  bad_utf8.content_type = std::string_view("\xed\xa0\x80", 3);  // a surrogate
  OwnedProperties a(bad_utf8);
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(a.empty());

  const std::string huge(70000, 'x');
  Properties too_long;
  too_long.response_topic = huge;
  OwnedProperties b(too_long);
  EXPECT_FALSE(b.valid());
  EXPECT_TRUE(b.empty());

  const StringPair pair[] = {{"k", huge}};
  Properties long_user_property{.user_properties = UserProperties(pair)};
  EXPECT_FALSE(OwnedProperties(long_user_property).valid());
  // Validity survives copies.
  OwnedProperties copy(b);
  EXPECT_FALSE(copy.valid());
}

TEST(OwnedPropertiesTest, EmptyPropertiesStoreNothing) {
  OwnedProperties owned{Properties{}};
  EXPECT_TRUE(owned.empty());
  EXPECT_EQ(owned.wire(), "");
  EXPECT_EQ(test::Describe(owned.view()), test::Describe(Properties{}));
}

}  // namespace
}  // namespace simq::protocol
