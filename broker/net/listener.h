// Accepts connections on one configured listener (tcp, tls, ws, wss) and spreads them over the
// workers.
//
//   Listener listener(broker, listener_config);
//   absl::Status s = listener.Start();   // binds; loads TLS files; fails if either fails
//   uint16_t port = listener.port();      // the bound port (config port 0 picks one)
//   listener.Reload();                    // SIGHUP: new certificates for new connections
//   listener.Stop();
//
// What happens to an accepted connection, in order: the connection rate limit is checked; it
// is handed to the next worker (round robin); the PROXY header is read if the listener expects
// one; the per-address limit is checked against the client's address; then a plain TCP
// connection starts (TcpConnection, which moves to its session's home worker after CONNECT),
// or a TLS/WebSocket one (StreamConnection, which stays and relays to the home worker). A limit
// does not close the connection: its CONNECT is refused with the reason (Link::admission).
//
// Thread: accepting runs on worker 0's io_context; each connection on the worker it was handed
// to. Reload may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"

#include "broker/config/config.h"
#include "broker/core/broker.h"
#include "broker/net/connection_limits.h"

namespace simq::net {

class Listener {
 public:
  Listener(core::Broker& broker, config::ListenerConfig config);
  ~Listener();

  absl::Status Start();
  // Stops accepting; open connections are not affected.
  void Stop();
  // tls and wss: reads the certificate chain, key and CA files again; connections accepted
  // from now on use them, established ones keep theirs. On error nothing changes.
  absl::Status Reload();
  uint16_t port() const { return port_; }
  const config::ListenerConfig& config() const { return config_; }

 private:
  void Accept();
  // On `worker`: the PROXY header (if any), the per-address limit, then the connection.
  static boost::asio::awaitable<void> Admit(core::Worker& worker,
                                            boost::asio::ip::tcp::socket socket,
                                            config::ListenerConfig config,
                                            std::shared_ptr<boost::asio::ssl::context> tls,
                                            std::shared_ptr<ConnectionLimits> limits,
                                            protocol::ReasonCode admission);
  std::shared_ptr<boost::asio::ssl::context> tls() const;

  core::Broker& broker_;
  const config::ListenerConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const std::shared_ptr<ConnectionLimits> limits_;
  uint16_t port_ = 0;
  uint32_t next_worker_ = 0;
  std::atomic<bool> stopped_{false};
  mutable absl::Mutex tls_mutex_;
  std::shared_ptr<boost::asio::ssl::context> tls_ ABSL_GUARDED_BY(tls_mutex_);
};

}  // namespace simq::net
