// An in-process simq broker for tests: listens on a free loopback port, optionally on a fake
// clock, stopped with the fixture (STYLE §33).
//
//   BrokerFixture broker;                       // or BrokerFixture(config, /*fake_clock=*/true)
//   ConnectOptions o = broker.Options("client-1");
//   ...
//   broker.clock()->Advance(std::chrono::seconds(30));
//   broker.Tick();                              // run the periodic checks now
#pragma once

#include <memory>
#include <string>

#include "broker/base/clock.h"
#include "broker/client/client.h"
#include "broker/config/config.h"
#include "broker/server/server.h"

namespace simq::testing {

// One TCP listener on 127.0.0.1 port 0, two workers (so cross-worker paths run), no $SYS, a
// RocksDB store of its own in the test's temp directory (async durability).
config::Config TestConfig();

class BrokerFixture {
 public:
  // `store`, if given, replaces the configured one (it must outlive the fixture).
  explicit BrokerFixture(config::Config config = TestConfig(), bool fake_clock = false,
                         core::BrokerOptions options = {}, store::Store* store = nullptr);
  ~BrokerFixture();

  uint16_t port() const { return port_; }
  server::Server& server() { return *server_; }
  core::Broker& broker() { return server_->broker(); }
  // Null unless built with fake_clock.
  base::FakeClock* clock() { return fake_clock_.get(); }
  // Runs every worker's periodic checks (keepalive, expiry, will delay) now.
  void Tick() { broker().TickAll(); }
  // Stops the broker (MQTT 5 clients get DISCONNECT 0x8B) and starts a new one on the same
  // port and data directory, keeping the clock: what a process restart looks like.
  void Restart();

  client::ConnectOptions Options(
      std::string client_id,
      protocol::ProtocolVersion version = protocol::ProtocolVersion::kMqtt5) const;

 private:
  void StartServer();

  config::Config config_;
  core::BrokerOptions options_;
  store::Store* store_ = nullptr;
  std::unique_ptr<base::FakeClock> fake_clock_;
  std::unique_ptr<server::Server> server_;
  uint16_t port_ = 0;
};

}  // namespace simq::testing
