// Backpressure (DESIGN §3): a consumer that does not read makes QoS 0 drop above the write
// buffer's high watermark, counted; it never stalls other subscribers; and one that stays above
// the mark longer than backpressure.slow_consumer_timeout_ms is disconnected.

#include <functional>

#include <gtest/gtest.h>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"

#include "broker/core/broker.h"
#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using asio::ip::tcp;
using testing::BrokerFixture;
using testing::RunCoroutine;

constexpr uint64_t kHighWatermark = 64 * 1024;
constexpr size_t kPayloadSize = 4 * 1024;
// Messages per batch: the reading subscriber drains each batch before the next, so its own
// buffer stays well below the high watermark.
constexpr int kBatch = 8;
// Safety cap on the flood (64 MiB) in case the kernel buffers far more than expected.
constexpr int kMaxMessages = 16 * 1024;

config::Config BackpressureConfig(uint32_t slow_consumer_timeout_ms) {
  config::Config config = testing::TestConfig();
  config.backpressure.write_buffer_high_watermark = kHighWatermark;
  config.backpressure.write_buffer_low_watermark = kHighWatermark / 4;
  config.backpressure.slow_consumer_timeout_ms = slow_consumer_timeout_ms;
  return config;
}

uint64_t QoS0Dropped(BrokerFixture& broker) {
  return broker.broker()
      .Snapshot()
      .dropped[static_cast<size_t>(core::DropReason::kQoS0Backpressure)];
}

// Removes the complete frames at the front of `buffer`; counts those of `type` in `*matching`
// and returns true once a frame of type `stop` was seen (frames after it stay in `buffer`).
bool ConsumeFrames(std::string* buffer, protocol::PacketType type, size_t* matching,
                   protocol::PacketType stop) {
  size_t pos = 0;
  bool stopped = false;
  while (!stopped) {
    auto header =
        protocol::ParseFixedHeader(std::string_view(*buffer).substr(pos), protocol::kMaxPacketSize);
    EXPECT_TRUE(header.ok()) << header.status();
    if (!header.ok() || !header->has_value() || buffer->size() - pos < (*header)->total_size()) {
      break;
    }
    if ((*header)->type == type) ++*matching;
    if ((*header)->type == stop) stopped = true;
    pos += (*header)->total_size();
  }
  buffer->erase(0, pos);
  return stopped;
}

std::string ConnectAndSubscribeBytes(std::string_view id, std::string_view filter, QoS qos) {
  std::string out;
  protocol::Encode(Connect(id), &out);
  protocol::SubscribePacket sub;
  sub.packet_id = 1;
  protocol::TopicSubscription s;
  s.filter = filter;
  s.options.max_qos = qos;
  sub.subscriptions.push_back(s);
  protocol::Encode(sub, ProtocolVersion::kMqtt5, &out);
  return out;
}

// A subscriber on a plain socket with a small receive buffer that reads its CONNACK and SUBACK
// and then nothing, until the test says so.
asio::awaitable<std::unique_ptr<tcp::socket>> SlowConsumer(asio::any_io_executor ex, uint16_t port,
                                                           std::string id, std::string filter,
                                                           QoS qos = QoS::kAtMostOnce) {
  auto socket = std::make_unique<tcp::socket>(ex);
  socket->open(tcp::v4());
  socket->set_option(asio::socket_base::receive_buffer_size(4096));
  co_await socket->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                 asio::use_awaitable);
  co_await asio::async_write(*socket, asio::buffer(ConnectAndSubscribeBytes(id, filter, qos)),
                             asio::use_awaitable);
  std::string in;
  std::vector<char> chunk(4096);
  size_t subacks = 0;
  while (
      !ConsumeFrames(&in, protocol::PacketType::kSuback, &subacks, protocol::PacketType::kSuback)) {
    size_t n = co_await socket->async_read_some(asio::buffer(chunk), asio::use_awaitable);
    in.append(chunk.data(), n);
  }
  EXPECT_EQ(subacks, 1u);
  EXPECT_TRUE(in.empty());
  co_return socket;
}

// Sends PINGREQ on the slow consumer and reads everything up to the PINGRESP (which the broker
// queues behind all its PUBLISH), counting PUBLISH packets.
asio::awaitable<size_t> DrainUntilPingresp(tcp::socket& socket) {
  std::string ping;
  protocol::Encode(protocol::PingreqPacket{}, ProtocolVersion::kMqtt5, &ping);
  co_await asio::async_write(socket, asio::buffer(ping), asio::use_awaitable);
  asio::steady_timer deadline(socket.get_executor(), 10s);
  deadline.async_wait([&socket](const boost::system::error_code& ec) {
    if (!ec) socket.cancel();
  });
  std::string in;
  std::vector<char> chunk(64 * 1024);
  size_t publishes = 0;
  bool done = false;
  while (!done) {
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      ADD_FAILURE() << "reading the slow consumer: " << ec.message();
      break;
    }
    in.append(chunk.data(), n);
    done = ConsumeFrames(&in, protocol::PacketType::kPublish, &publishes,
                         protocol::PacketType::kPingresp);
  }
  deadline.cancel();
  co_return publishes;
}

// Publishes QoS 0 messages in batches, each drained by `reader` before the next, until the
// broker has dropped some for the slow consumer and then `extra` more batches. Returns the
// number published.
asio::awaitable<int> FloodUntilDrops(asio::any_io_executor ex, BrokerFixture& broker, Client& pub,
                                     const size_t& reader_count, int extra) {
  const std::string payload(kPayloadSize, 'p');
  int sent = 0;
  int after_drops = -1;
  while (sent < kMaxMessages && after_drops < extra) {
    for (int i = 0; i < kBatch; ++i, ++sent) {
      EXPECT_TRUE((co_await pub.Publish(Msg("flood/t", payload))).ok());
    }
    const size_t want = static_cast<size_t>(sent);
    EXPECT_TRUE(co_await WaitUntil([&reader_count, want] { return reader_count >= want; }))
        << "the reading subscriber got " << reader_count << " of " << want;
    if (reader_count < want) break;
    if (after_drops >= 0) {
      ++after_drops;
    } else if (QoS0Dropped(broker) > 0) {
      after_drops = 0;
    }
  }
  EXPECT_GE(after_drops, 0) << "no QoS 0 drop after " << sent << " messages";
  co_return sent;
}

TEST(BackpressureTest, NonReadingConsumerDropsQoS0AndNeverStallsOthers) {
  BrokerFixture broker(BackpressureConfig(/*slow_consumer_timeout_ms=*/0));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto slow = co_await SlowConsumer(ex, broker.port(), "slow", "flood/#");
    size_t fast_count = 0;
    auto fast = Client::Create(ex);
    fast->set_message_handler([&fast_count](const protocol::PublishPacket&) { ++fast_count; });
    EXPECT_TRUE((co_await fast->Connect(broker.Options("fast"))).ok());
    EXPECT_TRUE((co_await fast->Subscribe(Sub("flood/#"))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("flooder"))).ok());

    const uint64_t before = QoS0Dropped(broker);
    const int sent = co_await FloodUntilDrops(ex, broker, *pub, fast_count, /*extra=*/20);
    // The reading subscriber got every message while the other one lagged.
    EXPECT_EQ(fast_count, static_cast<size_t>(sent));
    const uint64_t dropped = QoS0Dropped(broker) - before;
    EXPECT_GT(dropped, 0u);
    EXPECT_LT(dropped, static_cast<uint64_t>(sent));
    // Every message was either delivered to the slow consumer or counted as dropped.
    const size_t delivered = co_await DrainUntilPingresp(*slow);
    EXPECT_EQ(delivered + dropped, static_cast<uint64_t>(sent));
    EXPECT_EQ(broker.broker().Snapshot().slow_consumers_disconnected, 0u);
  });
}

TEST(BackpressureTest, ConsumerAboveTheMarkTooLongIsDisconnected) {
  BrokerFixture broker(BackpressureConfig(/*slow_consumer_timeout_ms=*/1000), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto slow = co_await SlowConsumer(ex, broker.port(), "stalled", "flood/#");
    size_t fast_count = 0;
    auto fast = Client::Create(ex);
    fast->set_message_handler([&fast_count](const protocol::PublishPacket&) { ++fast_count; });
    EXPECT_TRUE((co_await fast->Connect(broker.Options("healthy"))).ok());
    EXPECT_TRUE((co_await fast->Subscribe(Sub("flood/#"))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("flooder"))).ok());
    int sent = co_await FloodUntilDrops(ex, broker, *pub, fast_count, /*extra=*/2);

    // Still above the mark now: a whole new batch is dropped.
    const uint64_t before = QoS0Dropped(broker);
    const std::string payload(kPayloadSize, 'p');
    for (int i = 0; i < kBatch; ++i, ++sent) {
      EXPECT_TRUE((co_await pub->Publish(Msg("flood/t", payload))).ok());
    }
    EXPECT_TRUE(co_await WaitUntil([&] { return fast_count >= static_cast<size_t>(sent); }));
    EXPECT_EQ(QoS0Dropped(broker), before + kBatch);

    // A spike is not enough: under the timeout it stays connected...
    broker.Tick();
    broker.clock()->Advance(std::chrono::milliseconds(900));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().slow_consumers_disconnected, 0u);
    // ...and past it, it is disconnected.
    broker.clock()->Advance(std::chrono::milliseconds(200));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().slow_consumers_disconnected, 1u);

    // The socket ends (after whatever was already in flight).
    asio::steady_timer deadline(ex, 10s);
    deadline.async_wait([&slow](const boost::system::error_code& ec) {
      if (!ec) slow->cancel();
    });
    std::vector<char> chunk(64 * 1024);
    boost::system::error_code end;
    while (!end) {
      auto [ec, n] =
          co_await slow->async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      end = ec;
    }
    deadline.cancel();
    EXPECT_TRUE(end == asio::error::eof || end == asio::error::connection_reset) << end.message();

    // The other subscriber is unaffected.
    EXPECT_TRUE(fast->connected());
    EXPECT_TRUE((co_await pub->Publish(Msg("flood/t", "after"))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return fast_count == static_cast<size_t>(sent + 1); }));
    EXPECT_EQ(broker.broker().Snapshot().clients_connected, 2);
  });
}

// Decodes the complete PUBLISH frames at the front of `buffer` into `payloads` and appends a
// PUBACK for each QoS 1 one to `acks`.
void TakePublishes(std::string* buffer, std::vector<std::string>* payloads, std::string* acks) {
  size_t pos = 0;
  while (true) {
    std::string_view rest = std::string_view(*buffer).substr(pos);
    auto header = protocol::ParseFixedHeader(rest, protocol::kMaxPacketSize);
    EXPECT_TRUE(header.ok()) << header.status();
    if (!header.ok() || !header->has_value() || rest.size() < (*header)->total_size()) break;
    if ((*header)->type == protocol::PacketType::kPublish) {
      auto publish =
          protocol::DecodePublish(protocol::MakeFrame(**header, rest), ProtocolVersion::kMqtt5);
      EXPECT_TRUE(publish.ok()) << publish.status();
      if (publish.ok()) {
        EXPECT_FALSE(publish->dup);
        payloads->emplace_back(publish->payload);
        if (publish->qos == QoS::kAtLeastOnce) {
          protocol::PubackPacket ack;
          ack.packet_id = publish->packet_id;
          protocol::Encode(ack, ProtocolVersion::kMqtt5, acks);
        }
      }
    }
    pos += (*header)->total_size();
  }
  buffer->erase(0, pos);
}

// "17......": the first eight payload bytes of message 17.
std::string Index(int i) {
  std::string index = std::to_string(i);
  return index + std::string(8 - index.size(), '.');
}

TEST(BackpressureTest, QoS1WaitsAboveTheMarkAndResumesWhenTheConsumerReads) {
  config::Config config = BackpressureConfig(/*slow_consumer_timeout_ms=*/0);
  config.queues.max_queued_messages = 0;
  config.queues.max_queued_bytes = 0;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto slow = co_await SlowConsumer(ex, broker.port(), "slow-qos1", "q1/#", QoS::kAtLeastOnce);
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("q1-pub"))).ok());
    // Far more than the kernel buffers and the high watermark hold.
    constexpr int kMessages = 2000;
    std::string payload(kPayloadSize, 'q');
    for (int i = 0; i < kMessages; ++i) {
      payload.replace(0, 8, Index(i));
      auto r = co_await pub->Publish(Msg("q1/t", payload, QoS::kAtLeastOnce));
      EXPECT_TRUE(r.ok() && r->reason_code == ReasonCode::kSuccess);
    }
    // Nothing was dropped while the consumer did not read.
    EXPECT_EQ(broker.broker().Snapshot().dropped_total, 0u);

    // Now it reads and acknowledges: every message arrives, once, in order.
    asio::steady_timer deadline(ex, 10s);
    deadline.async_wait([&slow](const boost::system::error_code& ec) {
      if (!ec) slow->cancel();
    });
    std::vector<std::string> payloads;
    std::string in;
    std::vector<char> chunk(64 * 1024);
    while (payloads.size() < static_cast<size_t>(kMessages)) {
      auto [ec, n] =
          co_await slow->async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        ADD_FAILURE() << "after " << payloads.size() << " messages: " << ec.message();
        break;
      }
      in.append(chunk.data(), n);
      std::string acks;
      TakePublishes(&in, &payloads, &acks);
      if (!acks.empty()) co_await asio::async_write(*slow, asio::buffer(acks), asio::use_awaitable);
    }
    deadline.cancel();
    EXPECT_EQ(payloads.size(), static_cast<size_t>(kMessages));
    for (size_t i = 0; i < payloads.size(); ++i) {
      if (payloads[i].substr(0, 8) != Index(static_cast<int>(i))) {
        ADD_FAILURE() << "message " << i << " out of order: " << payloads[i].substr(0, 8);
        break;
      }
    }
    EXPECT_EQ(broker.broker().Snapshot().dropped_total, 0u);
  });
}

}  // namespace
}  // namespace simq::server
