#include "broker/testing/broker_fixture.h"

#include <gtest/gtest.h>

namespace simq::testing {

config::Config TestConfig() {
  config::Config config;
  config.workers = 2;
  config.listeners.clear();
  config::ListenerConfig listener;
  listener.bind = "127.0.0.1";
  listener.port = 0;
  listener.name = "test";
  config.listeners.push_back(listener);
  config.sys.interval_seconds = 0;
  return config;
}

BrokerFixture::BrokerFixture(config::Config config, bool fake_clock, core::BrokerOptions options) {
  server::ServerOptions server_options;
  if (fake_clock) {
    fake_clock_ = std::make_unique<base::FakeClock>();
    server_options.clock = fake_clock_.get();
  }
  server_options.broker = std::move(options);
  server_ = std::make_unique<server::Server>(std::move(config), std::move(server_options));
  absl::Status s = server_->Start();
  EXPECT_TRUE(s.ok()) << s;
  if (s.ok()) port_ = server_->ports().at(0);
}

BrokerFixture::~BrokerFixture() {
  server_->Stop();
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
