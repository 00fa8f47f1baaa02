#include "broker/testing/broker_fixture.h"

#include <atomic>

#include <gtest/gtest.h>

#include "broker/testing/process.h"

namespace simq::testing {

config::Config TestConfig() {
  static std::atomic<int> counter{0};
  config::Config config;
  config.workers = 2;
  // Every broker its own store; async durability keeps tests fast (no fsync) while every
  // acknowledgement still waits for its write (docs/adr/0003-durability.md).
  config.data_dir = TestTempDir() + "/data-" + std::to_string(counter++);
  config.store.durability = config::Durability::kAsync;
  config.listeners.clear();
  config::ListenerConfig listener;
  listener.bind = "127.0.0.1";
  listener.port = 0;
  listener.name = "test";
  config.listeners.push_back(listener);
  config.sys.interval_seconds = 0;
  return config;
}

BrokerFixture::BrokerFixture(config::Config config, bool fake_clock, core::BrokerOptions options,
                             store::Store* store)
    : config_(std::move(config)), options_(std::move(options)), store_(store) {
  if (fake_clock) fake_clock_ = std::make_unique<base::FakeClock>();
  StartServer();
}

BrokerFixture::~BrokerFixture() {
  server_->Stop();
}

void BrokerFixture::StartServer() {
  server::ServerOptions server_options;
  server_options.clock = fake_clock_.get();
  server_options.broker = options_;
  server_options.store = store_;
  config::Config config = config_;
  if (port_ != 0) config.listeners.at(0).port = port_;  // a restart keeps the address
  server_ = std::make_unique<server::Server>(std::move(config), std::move(server_options));
  absl::Status s = server_->Start();
  EXPECT_TRUE(s.ok()) << s;
  if (s.ok()) port_ = server_->ports().at(0);
}

void BrokerFixture::Restart() {
  server_->Stop();
  server_.reset();
  StartServer();
}

client::ConnectOptions BrokerFixture::Options(std::string client_id,
                                              protocol::ProtocolVersion version) const {
  client::ConnectOptions o;
  o.endpoint.host = "127.0.0.1";
  o.endpoint.port = port_;
  o.version = version;
  o.client_id = std::move(client_id);
  return o;
}

}  // namespace simq::testing
