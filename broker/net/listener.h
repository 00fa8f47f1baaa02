// Accepts connections on one configured listener and spreads them over the workers.
//
//   Listener listener(broker, listener_config);
//   absl::Status s = listener.Start();   // binds; fails if the address is in use
//   uint16_t port = listener.port();      // the bound port (config port 0 picks one)
//   listener.Stop();
//
// Thread: accepting runs on worker 0's io_context; each connection is started on the worker
// it was accepted for (round robin). Its session's home worker may then take it over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"

#include "broker/config/config.h"
#include "broker/core/broker.h"

namespace simq::net {

class Listener {
 public:
  Listener(core::Broker& broker, config::ListenerConfig config);
  ~Listener();

  absl::Status Start();
  // Stops accepting; open connections are not affected.
  void Stop();
  uint16_t port() const { return port_; }
  const config::ListenerConfig& config() const { return config_; }

 private:
  void Accept();

  core::Broker& broker_;
  config::ListenerConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  uint32_t next_worker_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace simq::net
