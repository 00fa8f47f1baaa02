// A TLS, WebSocket or WSS client connection's I/O end: the handshakes, then reading and
// writing the stream on the accepting worker, relaying MQTT bytes to its RelayLink
// (relay_link.h describes the relay).
//
//   StreamConnection::Start(worker, MakeServerStream(std::move(socket), options), std::move(peer),
//                           handshake_timeout);
//
// A reader and a writer coroutine run together; either ending for an error ends the
// connection (Finish), which closes the socket and tells the link. A graceful Close writes what
// is queued, then ends the stream properly (WebSocket close frame, TLS close_notify) within the
// handshake timeout.
//
// Owner and thread: its worker; kept alive by its coroutines (shared_from_this, STYLE §18).
// It owns the socket, the stream state and the per-address connection slot.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/steady_timer.hpp"

#include "broker/base/event.h"
#include "broker/core/worker.h"
#include "broker/net/peer.h"
#include "broker/net/relay_link.h"
#include "broker/net/server_stream.h"

namespace simq::net {

class StreamConnection final : public std::enable_shared_from_this<StreamConnection> {
 public:
  static void Start(core::Worker& worker, std::unique_ptr<ServerStream> stream, Peer peer,
                    std::chrono::milliseconds handshake_timeout);

  StreamConnection(core::Worker& worker, std::unique_ptr<ServerStream> stream, Peer peer,
                   std::chrono::milliseconds handshake_timeout);

  // --- From the link (on this worker) ---
  void Write(std::string bytes);
  void Close();
  void Abort();
  void Consumed(size_t n);
  // The link moved to `worker`; from now on bytes go there, to the link `slot` will name.
  void Rebind(core::Worker& worker, std::shared_ptr<LinkSlot> slot);

 private:
  asio::awaitable<void> Run();
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  // Arms the deadline that ends the connection if a handshake takes too long.
  void ArmDeadline();
  void Finish();
  // Runs `f(link)` on the link's worker: now if that is this worker, else posted.
  template <typename F>
  void ToLink(F f);

  core::Worker& worker_;
  std::unique_ptr<ServerStream> stream_;
  Peer peer_;
  const std::chrono::milliseconds handshake_timeout_;
  asio::steady_timer deadline_;

  core::Worker* link_worker_;
  std::shared_ptr<LinkSlot> slot_;

  std::string pending_;  // from the link, waiting for the writer
  std::string writing_;
  size_t unconsumed_ = 0;  // bytes handed to the link and not yet taken by its handler
  base::Event wake_writer_;
  base::Event credit_;
  base::Event reader_done_;
  bool reader_active_ = false;
  bool reading_ = true;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace simq::net
